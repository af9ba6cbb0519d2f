// `--ready-timeout`: as `opa run` does with it, the server listens only once every plugin reports OK, and
// start-up fails when that takes longer than the timeout (OPA: "Failed to wait for plugins activation.").
import type { PluginManager } from './plugins.js';

export class NotReadyError extends Error {
  override name = 'NotReadyError';
}

const POLL_MS = 50;

export async function waitUntilReady(plugins: PluginManager, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const waiting = plugins.notReady();
    if (waiting.length === 0) return;
    if (Date.now() >= deadline) {
      await plugins.stopAll();
      throw new NotReadyError(`plugins not ready after --ready-timeout ${timeoutMs / 1000}s: ${waiting.join(', ')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
