// Writes strict JSON Schemas for kubeconform from Kubernetes' own OpenAPI v3 documents, taken from the
// k8s.io/kubernetes module on the Go module proxy (checksummed by `go mod download`), so validating the
// rendered manifests needs no download from anywhere else.
//   node scripts/k8s-schemas.mjs OUT_DIR [KUBERNETES_VERSION]
// Files are named as kubeconform's default template expects: {kind}-{group prefix}-{version}.json
// ("deployment-apps-v1.json", "service-v1.json"). Every object with declared properties gets
// additionalProperties: false, so a misspelt field fails validation.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [outDir, version = 'v1.37.2'] = process.argv.slice(2);
if (!outDir) {
  console.error('usage: node scripts/k8s-schemas.mjs OUT_DIR [KUBERNETES_VERSION]');
  process.exit(2);
}
const download = JSON.parse(
  execFileSync('go', ['mod', 'download', '-json', `k8s.io/kubernetes@${version}`], {
    encoding: 'utf8',
    env: { ...process.env, GOFLAGS: '-mod=mod' },
    maxBuffer: 1 << 20,
  }),
);
if (download.Error) throw new Error(`go mod download k8s.io/kubernetes@${version}: ${download.Error}`);
const specDir = join(download.Dir, 'api/openapi-spec/v3');

const prefix = '#/components/schemas/';

function strict(schema) {
  if (Array.isArray(schema)) return schema.map(strict);
  if (schema === null || typeof schema !== 'object') return schema;
  const out = {};
  for (const [key, value] of Object.entries(schema)) out[key] = key === 'properties' ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, strict(v)])) : strict(value);
  if (out.properties && out.additionalProperties === undefined) out.additionalProperties = false;
  return out;
}

function refsOf(value, found) {
  if (Array.isArray(value)) for (const v of value) refsOf(v, found);
  else if (value && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) {
      if (key === '$ref' && typeof v === 'string' && v.startsWith(prefix)) found.add(v.slice(prefix.length));
      else refsOf(v, found);
    }
  }
}

mkdirSync(outDir, { recursive: true });
let written = 0;
for (const file of readdirSync(specDir).filter((f) => f.endsWith('_openapi.json'))) {
  const schemas = JSON.parse(readFileSync(join(specDir, file), 'utf8')).components?.schemas ?? {};
  for (const [name, schema] of Object.entries(schemas)) {
    for (const gvk of schema['x-kubernetes-group-version-kind'] ?? []) {
      if (name.endsWith('List') || !schema.properties?.kind) continue;
      const closure = new Set();
      const queue = [name];
      while (queue.length > 0) {
        const next = queue.pop();
        if (closure.has(next)) continue;
        closure.add(next);
        const found = new Set();
        refsOf(schemas[next], found);
        queue.push(...found);
      }
      const components = Object.fromEntries([...closure].sort().map((n) => [n, strict(schemas[n])]));
      const suffix = gvk.group === '' ? `-${gvk.version}` : `-${gvk.group.split('.')[0]}-${gvk.version}`;
      const document = { ...strict(schema), components: { schemas: components } };
      writeFileSync(join(outDir, `${gvk.kind.toLowerCase()}${suffix}.json`), JSON.stringify(document));
      written++;
    }
  }
}
console.log(`${written} schemas from Kubernetes ${version} in ${outDir}`);
