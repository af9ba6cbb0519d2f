// Activation of a bundle with ~10 MB of data in the engine alone (no HTTP, no download): how long activate()
// takes (store merge and the load into each wasm instance, in pieces), and how long
// the first decision after it takes (it should no longer load data). Flat (one object with ~120k keys) and
// grouped (100 keys per team) shapes, as in bench:bundles:e2e.
//   npm run bench:data-load [-- rounds]
import { parseBundle, type Bundle } from '../src/bundle/bundle.js';
import { Engine } from '../src/engine/engine.js';
import { defaultCompiler } from '../src/engine/opa-compiler.js';
import { bigDataBundle } from './data-bundle.js';

const rounds = Number(process.argv[2] ?? 3);

function dataBundle(revision: number, shape: 'flat' | 'grouped'): Bundle {
  return parseBundle('big', bigDataBundle(revision, 10e6, shape));
}

const ms = (t: number) => `${(performance.now() - t).toFixed(0)} ms`;

for (const shape of ['grouped', 'flat'] as const) {
  const engine = new Engine(defaultCompiler());
  for (let r = 1; r <= rounds; r++) {
    const bundle = dataBundle(r, shape);
    let t = performance.now();
    await engine.activate([bundle]);
    const activate = ms(t);
    t = performance.now();
    const { result } = await engine.decide('lookup/name', { id: 'u1' });
    const first = ms(t);
    if (result !== `user-1-${r}`) throw new Error(`round ${r}: unexpected decision ${JSON.stringify(result)}`);
    // The store merge, measured again on its own on the now active store.
    t = performance.now();
    engine.store.prepare([bundle]);
    const merge = ms(t);
    const { pieces, jsonBytes } = engine.lastDataLoad;
    console.log(`${shape} r${r}: activate ${activate} (compile included), first decision ${first}; store merge ${merge}, JSON ${(jsonBytes / 1e6).toFixed(1)} MB in ${pieces} pieces`);
  }
}
