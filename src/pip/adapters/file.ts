// `file` adapter: facts from a local JSON or YAML document, reloaded when the file changes. A reload that fails
// to parse keeps the last good document (a half-written file must not wipe the facts) and is reported by `status`.

import { readFileSync } from 'node:fs';
import { watch, type FSWatcher } from 'chokidar';
import { parseYamlAsOpa } from '../../json/yaml.js';
import type { JsonValue, PipAdapter, PipAdapterKind } from '../adapter.js';
import { PipConfigError } from '../errors.js';
import { parseTemplate, scalarText, type Template } from '../template.js';

/** Longer than chokidar's 50 ms change throttle. */
const RELOAD_SETTLE_MS = 100;

interface FileSettings {
  path: string;
  format?: 'json' | 'yaml';
  pick?: string[];
}

/** The settings compiled, and the document as it was read when they were checked. */
interface FileSource {
  path: string;
  format: 'json' | 'yaml';
  pick: Template[];
  document: JsonValue;
}

/** Reading the document is part of the check (a missing or broken file stops start-up); watching it is opening. */
export const fileAdapter: PipAdapterKind = {
  prepare(name, raw) {
    const settings = raw as unknown as FileSettings;
    const format = settings.format ?? (/\.ya?ml$/i.test(settings.path) ? 'yaml' : 'json');
    const pick = (settings.pick ?? []).map((s, i) => parseTemplate(s, `pip.adapters.${name}.settings.pick[${i}]`));
    let document: JsonValue;
    try {
      document = readDocument(settings.path, format);
    } catch (err) {
      throw new PipConfigError(`pip.adapters.${name}.settings.path: cannot load ${settings.path}: ${(err as Error).message}`);
    }
    const source: FileSource = { path: settings.path, format, pick, document };
    return { requiredParams: [...new Set(pick.flatMap((t) => t.params))], open: () => new FileAdapter(source) };
  },
};

function readDocument(path: string, format: 'json' | 'yaml'): JsonValue {
  const text = readFileSync(path, 'utf8');
  // A file caught between truncation and write reads empty: not a document to switch to.
  if (text.trim() === '') throw new Error('the file is empty');
  return (format === 'yaml' ? parseYamlAsOpa(text) : JSON.parse(text)) as JsonValue;
}

export class FileAdapter implements PipAdapter {
  private document: JsonValue;
  private readonly watcher: FSWatcher;
  private lastError: string | undefined;
  private pendingReload: NodeJS.Timeout | undefined;

  constructor(private readonly source: FileSource) {
    this.document = source.document;
    this.watcher = watch(source.path, { ignoreInitial: true }).on('all', (event) => {
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
    for (const segment of this.source.pick) {
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

  private reload(): void {
    try {
      this.document = readDocument(this.source.path, this.source.format);
      this.lastError = undefined;
    } catch (err) {
      this.lastError = `reload of ${this.source.path} failed, keeping the previous document: ${(err as Error).message}`;
    }
  }
}
