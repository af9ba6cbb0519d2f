// Policy and data files given to `verdict run` without `--bundle`, loaded as `opa run` loads them: not a bundle
// but policies and documents put into the store, as if through the Policy and Data APIs. Each module's id is
// its file path; data lands at the root (or under `prefix:`) and stays writable. With `--watch` every change
// reloads all the paths: the new modules replace the old in one compilation and the top-level documents the
// files hold are rewritten; a reload that fails (a half-written file, a compile error) leaves the previous
// policies and data serving and is logged.
import { watch, type FSWatcher } from 'chokidar';
import type { Logger } from 'pino';
import { packageOf } from '../bundle/bundle.js';
import type { Engine } from '../engine/engine.js';
import { loadPaths, splitPrefix, type LoadOptions } from '../cli/load.js';
import type { Plugin } from './plugins.js';
import type { DataWrite } from './context.js';

export interface LooseFiles extends LoadOptions {
  /** Paths as given on the command line, `prefix:` included. */
  paths: string[];
  watch?: boolean;
}

const DEBOUNCE_MS = 300;

/** `onDataWrite` hears every document written or removed (the server's other workers apply them too). */
export function looseFilesPlugin(engine: Engine, files: LooseFiles, logger: Logger, onDataWrite?: (write: DataWrite) => Promise<void> | void): Plugin {
  let moduleIds: string[] = [];
  let documents: string[] = [];
  let watcher: FSWatcher | undefined;
  let timer: NodeJS.Timeout | undefined;
  let loading: Promise<void> = Promise.resolve();

  const load = async () => {
    const loaded = await loadPaths(files.paths, files);
    const modules = loaded.modules.map((m) => ({ id: m.path, source: m.source, packagePath: packageOf(m.source, m.path) }));
    await engine.replaceModules(moduleIds, modules);
    moduleIds = modules.map((m) => m.id);
    const keys = Object.keys(loaded.data);
    for (const key of documents) {
      if (keys.includes(key)) continue;
      engine.store.delete([key]);
      await onDataWrite?.({ op: 'delete', path: [key] });
    }
    for (const key of keys) {
      engine.store.put([key], loaded.data[key]);
      await onDataWrite?.({ op: 'put', path: [key], value: loaded.data[key] });
    }
    documents = keys;
  };
  const reload = () => {
    loading = loading.then(() => load().then(
      () => logger.info({ paths: files.paths }, 'Files reloaded.'),
      (err: Error) => logger.error({ paths: files.paths, err: err.message }, 'Files not reloaded; the previous policies and data keep serving.'),
    ));
  };

  return {
    name: 'files',
    unlisted: true,
    async start() {
      await load();
      if (!files.watch) return;
      watcher = watch(files.paths.map((p) => splitPrefix(p).path), { ignoreInitial: true });
      watcher.on('all', () => {
        clearTimeout(timer);
        timer = setTimeout(reload, DEBOUNCE_MS);
      });
      await new Promise<void>((resolve) => watcher!.once('ready', () => resolve()));
    },
    async stop() {
      clearTimeout(timer);
      await watcher?.close();
      await loading;
    },
    status: () => ({ state: 'OK' }),
  };
}
