// The adapter types `pip.adapters.<name>.type` can name.

import type { PipAdapterKind } from '../adapter.js';
import { fileAdapter } from './file.js';
import { httpAdapter } from './http.js';
import { jwtAdapter } from './jwt.js';
import { ldapAdapter } from './ldap.js';
import { sqlAdapter } from './sql.js';

export const adapterKinds: Record<string, PipAdapterKind> = {
  file: fileAdapter,
  http: httpAdapter,
  jwt: jwtAdapter,
  ldap: ldapAdapter,
  sql: sqlAdapter,
};
