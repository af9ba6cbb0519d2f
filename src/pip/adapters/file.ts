// `file` adapter: facts from a local JSON or YAML document, reloaded when the file changes. A reload that fails
// to parse keeps the last good document (a half-written file must not wipe the facts) and is reported by `status`.

import { readFileSync } from 'node:fs';
import { watch, type FSWatcher } from 'chokidar';
import { parseYamlAsOpa } from '../../json/yaml.js';
import type { JsonValue, PipAdapter, PipAdapterFactory } from '../adapter.js';
import { PipConfigError } from '../errors.js';
import { parseTemplate, scalarText, type Template } from '../template.js';

/** Longer than chokidar's 50 ms change throttle. */
const RELOAD_SETTLE_MS = 100;

interface FileSettings {
  path: string;
  format?: 'json' | 'yaml';
  pick?: string[];
}

export class FileAdapter implements PipAdapter {
  readonly requiredParams: readonly string[];
  private document: JsonValue;
  private readonly pick: Template[];
  private readonly format: 'json' | 'yaml';
  private readonly watcher: FSWatcher;
  private lastError: string | undefined;
  private pendingReload: NodeJS.Timeout | undefined;

  constructor(
    private readonly name: string,
    private readonly settings: FileSettings,
  ) {
    this.format = settings.format ?? (/\.ya?ml$/i.test(settings.path) ? 'yaml' : 'json');
    this.pick = (settings.pick ?? []).map((s, i) => parseTemplate(s, `pip.adapters.${name}.settings.pick[${i}]`));
    this.requiredParams = [...new Set(this.pick.flatMap((t) => t.params))];
    try {
      this.document = this.read();
    } catch (err) {
      throw new PipConfigError(`pip.adapters.${name}: cannot load ${settings.path}: ${(err as Error).message}`);
    }
    this.watcher = watch(settings.path, { ignoreInitial: true }).on('all', (event) => {
      if (event !== 'add' && event !== 'change') return;
      // chokidar reports the first change of a burst and drops those in the next 50 ms, so reading at once could
      // miss the final content (truncate, then write). Reading once the burst has settled sees the last write.
      clearTimeout(this.pendingReload);
      this.pendingReload = setTimeout(() => this.reload(), RELOAD_SETTLE_MS);
    });
  }

  /** Resolves once the file watcher is watching, so a change made right after start-up is seen. */
  ready(): Promise<void> {
    return new Promise((resolve) => this.watcher.once('ready', () => resolve()));
  }

  status(): { problem?: string } {
    return { problem: this.lastError };
  }


  async lookup(params: Record<string, JsonValue>): Promise<JsonValue> {
    let node: JsonValue = this.document;
    for (const segment of this.pick) {
      const key = segment.render(params, (v) => scalarText(v));
      if (Array.isArray(node) && /^\d+$/.test(key)) node = node[Number(key)] ?? null;
      else if (node !== null && typeof node === 'object' && !Array.isArray(node) && Object.hasOwn(node, key)) node = node[key];
      else return null;
    }
    return node;
  }

  async close(): Promise<void> {
    clearTimeout(this.pendingReload);
    await this.watcher.close();
  }

  private read(): JsonValue {
    const text = readFileSync(this.settings.path, 'utf8');
    // A file caught between truncation and write reads empty: not a document to switch to.
    if (text.trim() === '') throw new Error('the file is empty');
    return (this.format === 'yaml' ? parseYamlAsOpa(text) : JSON.parse(text)) as JsonValue;
  }

  private reload(): void {
    try {
      this.document = this.read();
      this.lastError = undefined;
    } catch (err) {
      this.lastError = `reload of ${this.settings.path} failed, keeping the previous document: ${(err as Error).message}`;
    }
  }
}

export const createFileAdapter: PipAdapterFactory = (name, settings) => new FileAdapter(name, settings as unknown as FileSettings);
