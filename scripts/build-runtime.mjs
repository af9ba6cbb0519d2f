// Compiles the wasm runtime (AssemblyScript sources in src/wasm/runtime/) once, at build time, to
// dist/src/wasm/runtime.wasm, where src/wasm/compile.ts reads it. Skipped when the output is newer
// than every source file.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const srcDir = join(root, 'src/wasm/runtime');
const out = join(root, 'dist/src/wasm/runtime.wasm');

// The runtime also compiles the generated case-mapping table it shares with the host builtins.
const sources = readdirSync(srcDir, { recursive: true })
  .map(String)
  .filter((f) => f.endsWith('.ts'))
  .map((f) => join(srcDir, f))
  .concat(join(root, 'src/builtins/casemap-table.ts'));
const newest = Math.max(...sources.map((f) => statSync(f).mtimeMs), statSync(fileURLToPath(import.meta.url)).mtimeMs);
let current = false;
try {
  current = statSync(out).mtimeMs > newest;
} catch {
  current = false;
}
if (!current) {
  mkdirSync(dirname(out), { recursive: true });
  const asc = join(root, 'node_modules/assemblyscript/bin/asc.js');
  execFileSync(
    process.execPath,
    [asc, join(srcDir, 'index.ts'), '--runtime', 'stub', '--importMemory', '--noAssert', '-O3', '--use', 'abort=', '-o', out],
    { stdio: 'inherit' },
  );
}
