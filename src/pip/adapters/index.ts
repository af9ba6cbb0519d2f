// The adapter types `pip.adapters.<name>.type` can name.

import type { PipAdapterFactory } from '../adapter.js';
import { createFileAdapter } from './file.js';
import { createHttpAdapter } from './http.js';
import { createJwtAdapter } from './jwt.js';
import { createLdapAdapter } from './ldap.js';
import { createSqlAdapter } from './sql.js';

export const adapterFactories: Record<string, PipAdapterFactory> = {
  file: createFileAdapter,
  http: createHttpAdapter,
  jwt: createJwtAdapter,
  ldap: createLdapAdapter,
  sql: createSqlAdapter,
};
