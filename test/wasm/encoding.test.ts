import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeBody, wasm as w } from '../../src/wasm/code.js';
import { ByteReader, ByteWriter } from '../../src/wasm/encoding.js';
import { compilePlan } from '../../src/wasm/compile.js';
import { EMPTY_PLAN } from './module-helper.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

test('LEB128 encodings match the examples of the wasm spec and read back', () => {
  const cases: [(x: ByteWriter) => void, string][] = [
    [(x) => x.u32(624485), 'e58e26'],
    [(x) => x.u32(0), '00'],
    [(x) => x.u32(0xffffffff), 'ffffffff0f'],
    [(x) => x.s32(-123456), 'c0bb78'],
    [(x) => x.s32(63), '3f'],
    [(x) => x.s32(64), 'c000'],
    [(x) => x.s32(-64), '40'],
    [(x) => x.s64(-(2n ** 63n)), '8080808080808080807f'],
    [(x) => x.s64(2n ** 40n), '808080808020'],
  ];
  for (const [write, want] of cases) {
    const x = new ByteWriter(1);
    write(x);
    assert.equal(hex(x.finish()), want);
  }
  assert.equal(new ByteReader(Uint8Array.from([0xe5, 0x8e, 0x26])).u32(), 624485);
  assert.equal(new ByteReader(Uint8Array.from([0xc0, 0xbb, 0x78])).s32(), -123456);
});

/** A module exporting `f(i32) -> i32` with the given body (one extra i32 local). */
function moduleWith(body: ReturnType<typeof w.seq>[]): (n: number) => number {
  const out = new ByteWriter();
  out.bytes(Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]));
  out.section(1, Uint8Array.from([1, 0x60, 1, 0x7f, 1, 0x7f]));
  out.section(3, Uint8Array.from([1, 0]));
  const exp = new ByteWriter();
  exp.u32(1);
  exp.name('f');
  exp.byte(0);
  exp.u32(0);
  out.section(7, exp);
  const code = new ByteWriter();
  code.u32(1);
  encodeBody(code, 1, body);
  out.section(10, code);
  const instance = new WebAssembly.Instance(new WebAssembly.Module(out.finish()));
  return instance.exports.f as (n: number) => number;
}

test('named labels become the right branch depths through blocks, loops and ifs', () => {
  // local 1 = 0; block OUT { loop LOOP { br_if OUT (local0 == 0); local1 += local0; local0 -= 1;
  //   if (local1 >= 100) { br OUT }; br LOOP } }; return local1
  const f = moduleWith([
    w.localSet(1, w.i32Const(0)),
    w.block('OUT', [
      w.loop('LOOP', [
        w.br('OUT', w.i32Eqz(w.localGet(0))),
        w.localSet(1, w.i32Add(w.localGet(1), w.localGet(0))),
        w.localSet(0, w.i32Sub(w.localGet(0), w.i32Const(1))),
        w.if(w.i32GeS(w.localGet(1), w.i32Const(100)), w.seq([w.br('OUT')])),
        w.br('LOOP'),
      ]),
    ]),
    w.return(w.localGet(1)),
  ]);
  assert.equal(f(4), 10); // 4 + 3 + 2 + 1, the loop ends at 0
  assert.equal(f(20), 105); // 20 + 19 + ... + 15: stops once the sum reaches 100
  assert.equal(f(0), 0);
  assert.throws(() => moduleWith([w.br('NOWHERE')]), /label NOWHERE/);
});

test('a compiled module imports only OPA host functions and exports only the ABI', () => {
  const mod = new WebAssembly.Module(compilePlan(EMPTY_PLAN));
  assert.deepEqual(
    WebAssembly.Module.imports(mod).map((i) => `${i.module}.${i.name}:${i.kind}`).sort(),
    ['env.memory:memory', 'env.opa_abort:function', 'env.opa_builtin0:function', 'env.opa_builtin1:function',
      'env.opa_builtin2:function', 'env.opa_builtin3:function', 'env.opa_builtin4:function'],
  );
  const exports = WebAssembly.Module.exports(mod).map((e) => e.name);
  for (const name of ['eval', 'opa_eval', 'opa_malloc', 'opa_json_parse', 'builtins', 'entrypoints', 'memory', 'opa_wasm_abi_version']) {
    assert.ok(exports.includes(name), `${name} exported`);
  }
  assert.ok(!exports.some((n) => n.startsWith('b_') || n === 'heapBase'), `no internal exports: ${exports.join(', ')}`);
});
