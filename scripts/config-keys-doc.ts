// Rewrites the table of OPA's configuration keys in docs/configuration.md from src/config/opa-keys.ts.
import { readFileSync, writeFileSync } from 'node:fs';
import { opaKeysTable } from '../src/config/opa-keys.js';

const file = new URL('../../docs/configuration.md', import.meta.url);
const doc = readFileSync(file, 'utf8');
const start = '<!-- opa-keys:start -->';
const end = '<!-- opa-keys:end -->';
if (!doc.includes(start) || !doc.includes(end)) throw new Error(`docs/configuration.md needs ${start} and ${end}`);
writeFileSync(file, doc.slice(0, doc.indexOf(start) + start.length) + '\n' + opaKeysTable() + '\n' + doc.slice(doc.indexOf(end)));
