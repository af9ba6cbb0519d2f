// The adapter types `pip.adapters.<name>.type` can name.

import type { PipAdapterFactory } from '../adapter.js';
import { createFileAdapter } from './file.js';

export const adapterFactories: Record<string, PipAdapterFactory> = {
  file: createFileAdapter,
};
