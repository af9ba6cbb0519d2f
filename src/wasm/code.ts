// Function bodies for the generated code, written straight to wasm bytes: a small expression tree (only the
// instructions the code generator uses, all on i32 values) whose named labels become branch depths when the
// body is encoded. Unnamed blocks are flattened into their parent, as nothing can branch to them.
import { ByteWriter } from './encoding.js';

export type Expr =
  | { k: 'op'; args: Expr[]; op: number; imm?: number; imm2?: number }
  | { k: 'const'; value: number }
  | { k: 'i64'; value: bigint }
  | { k: 'seq'; body: Expr[] }
  | { k: 'block' | 'loop'; name: string; body: Expr[] }
  | { k: 'if'; cond: Expr; then: Expr }
  | { k: 'br'; name: string; cond?: Expr };

// Opcodes (https://webassembly.github.io/spec/core/binary/instructions.html).
const OP = {
  unreachable: 0x00, block: 0x02, loop: 0x03, if: 0x04, end: 0x0b, br: 0x0c, brIf: 0x0d, return: 0x0f,
  call: 0x10, callIndirect: 0x11, drop: 0x1a, localGet: 0x20, localSet: 0x21, globalGet: 0x23, globalSet: 0x24,
  i32Load: 0x28, i32Store: 0x36,
  memorySize: 0x3f, memoryGrow: 0x40, i32Const: 0x41, i64Const: 0x42, i32Eqz: 0x45, i32Ne: 0x47,
  i32LtU: 0x49, i32GeS: 0x4e, i32Add: 0x6a, i32Sub: 0x6b, prefixFC: 0xfc,
} as const;
const BLOCK_VOID = 0x40;
const MEMORY_INIT = 8;
const DATA_DROP = 9;

const NO_ARGS: Expr[] = [];
const op = (opcode: number, args: Expr[] = NO_ARGS, imm?: number, imm2?: number): Expr => ({ k: 'op', args, op: opcode, imm, imm2 });

/** Builders, named after the instructions. */
export const wasm = {
  localGet: (index: number): Expr => op(OP.localGet, [], index),
  localSet: (index: number, value: Expr): Expr => op(OP.localSet, [value], index),
  globalGet: (index: number): Expr => op(OP.globalGet, [], index),
  globalSet: (index: number, value: Expr): Expr => op(OP.globalSet, [value], index),
  i32Const: (value: number): Expr => ({ k: 'const', value }),
  i64Const: (value: bigint): Expr => ({ k: 'i64', value }),
  i32Eqz: (a: Expr): Expr => op(OP.i32Eqz, [a]),
  i32Ne: (a: Expr, b: Expr): Expr => op(OP.i32Ne, [a, b]),
  i32LtU: (a: Expr, b: Expr): Expr => op(OP.i32LtU, [a, b]),
  i32GeS: (a: Expr, b: Expr): Expr => op(OP.i32GeS, [a, b]),
  i32Add: (a: Expr, b: Expr): Expr => op(OP.i32Add, [a, b]),
  i32Sub: (a: Expr, b: Expr): Expr => op(OP.i32Sub, [a, b]),
  /** i32.load with natural (4-byte) alignment. */
  i32Load: (offset: number, ptr: Expr): Expr => op(OP.i32Load, [ptr], 2, offset),
  i32Store: (offset: number, ptr: Expr, value: Expr): Expr => op(OP.i32Store, [ptr, value], 2, offset),
  call: (func: number, args: Expr[]): Expr => op(OP.call, args, func),
  /** call_indirect through table 0; the callee index is the last operand. */
  callIndirect: (type: number, index: Expr, args: Expr[]): Expr => op(OP.callIndirect, [...args, index], type, 0),
  drop: (value: Expr): Expr => op(OP.drop, [value]),
  return: (value: Expr): Expr => op(OP.return, [value]),
  unreachable: (): Expr => op(OP.unreachable),
  memorySize: (): Expr => op(OP.memorySize, [], 0),
  memoryGrow: (pages: Expr): Expr => op(OP.memoryGrow, [pages], 0),
  memoryInit: (segment: number, dest: Expr, offset: Expr, size: Expr): Expr => op(OP.prefixFC, [dest, offset, size], MEMORY_INIT, segment),
  dataDrop: (segment: number): Expr => op(OP.prefixFC, [], DATA_DROP, segment),
  seq: (body: Expr[]): Expr => ({ k: 'seq', body }),
  block: (name: string, body: Expr[]): Expr => ({ k: 'block', name, body }),
  loop: (name: string, body: Expr[]): Expr => ({ k: 'loop', name, body }),
  if: (cond: Expr, then: Expr): Expr => ({ k: 'if', cond, then }),
  /** br, or br_if when a condition is given. */
  br: (name: string, cond?: Expr): Expr => ({ k: 'br', name, cond }),
};

/** Encodes a function body: local declarations (all i32) followed by the instructions. */
export function encodeBody(out: ByteWriter, extraLocals: number, body: Expr[]): void {
  const w = new ByteWriter(256);
  if (extraLocals > 0) {
    w.u32(1);
    w.u32(extraLocals);
    w.byte(0x7f);
  } else {
    w.u32(0);
  }
  const labels: (string | null)[] = [];
  const emit = (e: Expr): void => {
    switch (e.k) {
      case 'const':
        w.byte(OP.i32Const);
        w.s32(e.value);
        return;
      case 'i64':
        w.byte(OP.i64Const);
        w.s64(e.value);
        return;
      case 'op':
        for (const a of e.args) emit(a);
        w.byte(e.op);
        if (e.op === OP.prefixFC) {
          w.u32(e.imm!);
          w.u32(e.imm2!);
          if (e.imm === MEMORY_INIT) w.byte(0);
        } else if (e.op === OP.i32Load || e.op === OP.i32Store || e.op === OP.callIndirect) {
          w.u32(e.imm!);
          w.u32(e.imm2!);
        } else if (e.op === OP.memorySize || e.op === OP.memoryGrow) {
          w.byte(0);
        } else if (e.imm !== undefined) {
          w.u32(e.imm);
        }
        return;
      case 'seq':
        for (const s of e.body) emit(s);
        return;
      case 'block':
      case 'loop':
        w.byte(e.k === 'block' ? OP.block : OP.loop);
        w.byte(BLOCK_VOID);
        labels.push(e.name);
        for (const s of e.body) emit(s);
        labels.pop();
        w.byte(OP.end);
        return;
      case 'if':
        emit(e.cond);
        w.byte(OP.if);
        w.byte(BLOCK_VOID);
        labels.push(null);
        emit(e.then);
        labels.pop();
        w.byte(OP.end);
        return;
      case 'br': {
        const at = labels.lastIndexOf(e.name);
        if (at < 0) throw new Error(`branch to label ${e.name} outside its block`);
        if (e.cond) emit(e.cond);
        w.byte(e.cond ? OP.brIf : OP.br);
        w.u32(labels.length - 1 - at);
        return;
      }
    }
  };
  for (const s of body) emit(s);
  w.byte(OP.end);
  out.u32(w.length);
  out.bytes(w.finish());
}
