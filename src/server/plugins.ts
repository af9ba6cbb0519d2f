// One life cycle for Verdict's long-running parts (bundle sources, the decision-log writer, PIP caches,
// the gRPC server), modelled on OPA's plugin manager: one place owns start/stop order, and /health and
// /v1/status read every part's state from here.
import type { PluginStatus } from './context.js';

export interface Plugin {
  /** Name as shown under /v1/status plugins and matched by /health?exclude-plugin. */
  name: string;
  /** "bundle" plugins are the ones /health?bundles waits for (OPA: bundle and discovery plugins). */
  kind?: 'bundle' | 'other';
  /** Not listed under /v1/status plugins or checked by /health?plugins (OPA has no plugin for `run -b` bundles). */
  unlisted?: boolean;
  start(): Promise<void>;
  /** Stops work and flushes what must be flushed (graceful shutdown awaits it). */
  stop(): Promise<void>;
  status(): PluginStatus;
}

export class PluginManager {
  private readonly plugins: Plugin[] = [];
  /** Plugins asked to stop whose stop has not finished, or not begun (they stop one after the other). */
  private readonly unstopped = new Set<string>();

  register(plugin: Plugin): void {
    if (this.plugins.some((p) => p.name === plugin.name)) throw new Error(`plugin ${plugin.name} is registered twice`);
    this.plugins.push(plugin);
  }

  /** Starts in registration order; a failure stops the ones already started and is rethrown. */
  async startAll(): Promise<void> {
    const started: Plugin[] = [];
    try {
      for (const plugin of this.plugins) {
        await plugin.start();
        started.push(plugin);
      }
    } catch (err) {
      await stopInOrder(started.reverse());
      throw err;
    }
  }

  /** Stops in reverse order, so later plugins (which may depend on earlier ones) go first. */
  async stopAll(): Promise<void> {
    const order = [...this.plugins].reverse();
    for (const plugin of order) this.unstopped.add(plugin.name);
    await stopInOrder(order, (plugin) => this.unstopped.delete(plugin.name));
  }

  /** The plugins a stopAll under way still waits for, in the order they stop (what a shutdown is waiting on). */
  stopping(): string[] {
    return [...this.unstopped];
  }

  statuses(): Record<string, PluginStatus> {
    return Object.fromEntries(this.plugins.filter((p) => !p.unlisted).map((p) => [p.name, p.status()]));
  }

  /** Names of the plugins, listed or not, whose state is not OK (`--ready-timeout` waits for none). */
  notReady(): string[] {
    return this.plugins.filter((p) => p.status().state !== 'OK').map((p) => p.name);
  }

  bundlesActivated(): boolean {
    return this.plugins.filter((p) => p.kind === 'bundle').every((p) => p.status().state === 'OK');
  }
}

async function stopInOrder(plugins: Plugin[], stopped: (plugin: Plugin) => void = () => {}): Promise<void> {
  const failures: unknown[] = [];
  for (const plugin of plugins) {
    await plugin.stop().catch((err: unknown) => failures.push(err));
    stopped(plugin);
  }
  if (failures.length) throw new AggregateError(failures, `${failures.length} plugin(s) failed to stop`);
}
