// Code generation for one IR function or for `eval`: IR blocks become wasm blocks, undefined
// statements branch out of the innermost block, and the label nesting mirrors OPA's own wasm
// compiler (scan bodies run directly inside a loop, Not/With wrap their block) because the
// planner's BreakStmt indices and CallDynamicStmt's exits count those labels.
import binaryen from 'binaryen';
import type { Block, Func, Local, Location, Operand, Plan, Policy, Stmt, StmtOf } from '../ir/plan.js';
import { PlanError } from '../ir/validate.js';
import type { DataLayout, StaticString } from './layout.js';

type Expr = binaryen.ExpressionRef;

export interface ModuleContext {
  m: binaryen.Module;
  layout: DataLayout;
  strings: StaticString[];
  plan: Policy;
  /** Internal name of an exported runtime function. */
  runtime: (name: string) => string;
  funcIndex: Map<string, number>;
  funcArity: Map<string, number>;
  native: Map<string, string>;
  external: Map<string, { id: number; hasResult: boolean }>;
  mapping: { ptr: number; len: number };
  trueAddr: number;
  falseAddr: number;
  memoCount: number;
  /** Internal name of the imported env.opa_abort. */
  abortFn: string;
}

// Value tags of src/wasm/runtime/value.ts.
const T_ARRAY = 5;
const T_OBJECT = 6;
const T_SET = 7;

const i32 = binaryen.i32;

export class FunctionCompiler {
  private readonly m: binaryen.Module;
  private readonly locals = new Map<Local, number>();
  private nextIndex: number;
  private readonly paramCount: number;
  private readonly labels: string[] = [];
  private labelCounter = 0;
  private memoIndex = -1;
  private resultSet = -1;
  /** Describes the statement being compiled, for error messages (built only when one is thrown). */
  private where: () => string = () => '';

  /** `params` are the IR locals bound to the wasm parameters (eval has one parameter, the context). */
  constructor(private readonly ctx: ModuleContext, params: Local[]) {
    this.m = ctx.m;
    params.forEach((p, i) => this.locals.set(p, i));
    this.paramCount = params.length;
    this.nextIndex = params.length;
  }

  varTypes(): number[] {
    return new Array(this.nextIndex - this.paramCount).fill(i32);
  }

  private local(l: Local): number {
    let idx = this.locals.get(l);
    if (idx === undefined) {
      idx = this.nextIndex++;
      this.locals.set(l, idx);
    }
    return idx;
  }

  private temp(): number {
    return this.nextIndex++;
  }

  private get(l: Local): Expr {
    return this.m.local.get(this.local(l), i32);
  }

  private call(runtimeName: string, args: Expr[], result: number = i32): Expr {
    return this.m.call(this.ctx.runtime(runtimeName), args, result);
  }

  private read(op: Operand): Expr {
    switch (op.type) {
      case 'local': return this.get(op.value);
      case 'bool': return this.m.i32.const(op.value ? this.ctx.trueAddr : this.ctx.falseAddr);
      case 'string_index': return this.m.i32.const(this.ctx.strings[op.value].addr);
    }
  }

  private label(index: number): string {
    const l = this.labels[this.labels.length - 1 - index];
    if (l === undefined) throw new PlanError(`${this.where()}: break index ${index} leaves the function`);
    return l;
  }

  /** Branch out of the innermost block when `undefinedCond` is non-zero. */
  private brIf(cond: Expr, index = 0): Expr {
    return this.m.br(this.label(index), cond);
  }

  private block(body: () => Expr[]): Expr {
    const name = `L${this.labelCounter++}`;
    this.labels.push(name);
    const stmts = body();
    this.labels.pop();
    return this.m.block(name, stmts, binaryen.none);
  }

  private i64(v: number): Expr {
    // binaryen.js takes the value as a bigint; its typings still say number.
    const asBig = this.m.i64.const as unknown as (x: bigint) => Expr;
    return asBig(BigInt.asIntN(64, BigInt(Math.trunc(v))));
  }

  private abort(loc: Location, what: string): Expr[] {
    const files = this.ctx.plan.static?.files ?? [];
    const file = loc.file !== undefined ? files[loc.file]?.value ?? '' : '';
    return this.abortWith(`${file}:${loc.row ?? 0}:${loc.col ?? 0}: ${what}`);
  }

  private abortWith(msg: string): Expr[] {
    return [
      this.m.call(this.ctx.abortFn, [this.m.i32.const(this.ctx.layout.cString(msg))], binaryen.none),
      this.m.unreachable(),
    ];
  }

  compileFunc(f: Func, index: number): Expr {
    const m = this.m;
    this.local(f.return);
    const body: Expr[] = [];
    if (f.params.length === 2) {
      this.memoIndex = index;
      const ret = this.local(f.return);
      body.push(
        m.local.set(ret, this.call('memoGet', [m.i32.const(index)])),
        m.if(m.local.get(ret, i32), m.return(m.local.get(ret, i32))),
      );
    }
    f.blocks.forEach((b, i) => {
      this.where = () => `func ${f.name}, block ${i}`;
      body.push(this.block(() => this.stmts(b)));
    });
    body.push(m.return(this.get(f.return)));
    return m.block(null, body, binaryen.auto);
  }

  compileEval(plans: Plan[]): Expr {
    const m = this.m;
    const ctxParam = 0;
    const eid = this.temp();
    this.resultSet = this.temp();
    const load = (offset: number) => m.i32.load(offset, 4, m.local.get(ctxParam, i32));
    const main = this.block(() => {
      const out: Expr[] = [];
      plans.forEach((plan, i) => {
        out.push(this.block(() => {
          const ep: Expr[] = [this.brIf(m.i32.ne(m.local.get(eid, i32), m.i32.const(i)))];
          plan.blocks.forEach((b, j) => {
            this.where = () => `plan ${plan.name}, block ${j}`;
            ep.push(this.block(() => this.stmts(b)));
          });
          ep.push(m.br(this.label(1)));
          return ep;
        }));
      });
      out.push(...this.abortWith('internal: illegal entrypoint id'));
      return out;
    });
    return m.block(null, [
      this.call('memoInit', [m.i32.const(this.ctx.memoCount)], binaryen.none),
      m.local.set(this.local(0), load(0)),
      m.local.set(this.local(1), load(4)),
      m.local.set(this.resultSet, load(8)),
      m.local.set(eid, load(12)),
      main,
    ], binaryen.none);
  }

  private stmts(block: Block): Expr[] {
    const out: Expr[] = [];
    const where = this.where;
    block.stmts.forEach((s, i) => {
      this.where = () => `${where()}, stmt ${i} (${s.type})`;
      out.push(...this.stmt(s));
    });
    this.where = where;
    return out;
  }

  private stmt(s: Stmt): Expr[] {
    const m = this.m;
    switch (s.type) {
      case 'ArrayAppendStmt':
        return [this.call('arrAppend', [this.get(s.stmt.array), this.read(s.stmt.value)], binaryen.none)];
      case 'AssignIntStmt':
        return [this.call('numberSetInt', [this.get(s.stmt.target), this.i64(s.stmt.value)], binaryen.none)];
      case 'AssignVarOnceStmt': {
        const t = this.local(s.stmt.target);
        const source = s.stmt.source;
        return [this.block(() => [
          this.block(() => [
            this.brIf(m.i32.eqz(m.local.get(t, i32))),
            this.brIf(this.call('valueEqual', [m.local.get(t, i32), this.read(source)]), 1),
            ...this.abort(s.stmt, 'var assignment conflict'),
          ]),
          m.local.set(t, this.read(source)),
        ])];
      }
      case 'AssignVarStmt':
        return [m.local.set(this.local(s.stmt.target), this.read(s.stmt.source))];
      case 'BlockStmt':
        return (s.stmt.blocks ?? []).map((b) => this.block(() => this.stmts(b)));
      case 'BreakStmt':
        return [m.br(this.label(s.stmt.index))];
      case 'CallDynamicStmt':
        return this.callDynamic(s);
      case 'CallStmt':
        return this.callStmt(s);
      case 'DotStmt': {
        const src = s.stmt.source;
        if (src.type !== 'local') return [m.br(this.label(0))];
        const t = this.local(s.stmt.target);
        return [
          m.local.set(t, this.call('valueGet', [this.get(src.value), this.read(s.stmt.key)])),
          this.brIf(m.i32.eqz(m.local.get(t, i32))),
        ];
      }
      case 'EqualStmt':
        return [this.brIf(m.i32.eqz(this.call('valueEqual', [this.read(s.stmt.a), this.read(s.stmt.b)])))];
      case 'NotEqualStmt':
        return [this.brIf(this.call('valueEqual', [this.read(s.stmt.a), this.read(s.stmt.b)]))];
      case 'IsArrayStmt':
        return [this.typeCheck(s.stmt.source, T_ARRAY)];
      case 'IsObjectStmt':
        return [this.typeCheck(s.stmt.source, T_OBJECT)];
      case 'IsSetStmt':
        return [this.typeCheck(s.stmt.source, T_SET)];
      case 'IsDefinedStmt':
        return [this.brIf(m.i32.eqz(this.get(s.stmt.source)))];
      case 'IsUndefinedStmt':
        return [this.brIf(this.get(s.stmt.source))];
      case 'LenStmt':
        return [m.local.set(this.local(s.stmt.target), this.call('valueLength', [this.read(s.stmt.source)]))];
      case 'MakeArrayStmt':
        return [m.local.set(this.local(s.stmt.target), this.call('mkArray', [m.i32.const(s.stmt.capacity)]))];
      case 'MakeNullStmt':
        return [m.local.set(this.local(s.stmt.target), this.call('mkNull', []))];
      case 'MakeNumberIntStmt':
        return [m.local.set(this.local(s.stmt.target), this.call('mkInt', [this.i64(s.stmt.value)]))];
      case 'MakeNumberRefStmt': {
        const str = this.ctx.strings[s.stmt.index];
        return [m.local.set(this.local(s.stmt.target), this.call('mkNumberRef', [m.i32.const(str.ptr), m.i32.const(str.len)]))];
      }
      case 'MakeObjectStmt':
        return [m.local.set(this.local(s.stmt.target), this.call('mkObject', []))];
      case 'MakeSetStmt':
        return [m.local.set(this.local(s.stmt.target), this.call('mkSet', []))];
      case 'NopStmt':
        return [];
      case 'NotStmt': {
        const cond = this.temp();
        const inner = s.stmt.block;
        return [
          m.local.set(cond, m.i32.const(1)),
          this.block(() => [...this.stmts(inner), m.local.set(cond, m.i32.const(0))]),
          this.brIf(m.i32.eqz(m.local.get(cond, i32))),
        ];
      }
      case 'ObjectInsertOnceStmt': {
        const tmp = this.temp();
        const { key, value, object } = s.stmt;
        return [this.block(() => [
          this.block(() => [
            m.local.set(tmp, this.call('valueGet', [this.get(object), this.read(key)])),
            this.brIf(m.i32.eqz(m.local.get(tmp, i32))),
            this.brIf(this.call('valueEqual', [m.local.get(tmp, i32), this.read(value)]), 1),
            ...this.abort(s.stmt, 'object insert conflict'),
          ]),
          this.call('objInsert', [this.get(object), this.read(key), this.read(value)], binaryen.none),
        ])];
      }
      case 'ObjectInsertStmt':
        return [this.call('objInsert', [this.get(s.stmt.object), this.read(s.stmt.key), this.read(s.stmt.value)], binaryen.none)];
      case 'ObjectMergeStmt':
        return [m.local.set(this.local(s.stmt.target), this.call('objectMerge', [this.get(s.stmt.a), this.get(s.stmt.b)]))];
      case 'ResetLocalStmt':
        return [m.local.set(this.local(s.stmt.target), m.i32.const(0))];
      case 'ResultSetAddStmt':
        if (this.resultSet < 0) throw new PlanError(`${this.where()}: ResultSetAddStmt outside a plan`);
        return [this.call('setAdd', [m.local.get(this.resultSet, i32), this.get(s.stmt.value)], binaryen.none)];
      case 'ReturnLocalStmt': {
        const out: Expr[] = [];
        if (this.memoIndex >= 0) out.push(this.call('memoSet', [m.i32.const(this.memoIndex), this.get(s.stmt.source)], binaryen.none));
        out.push(m.return(this.get(s.stmt.source)));
        return out;
      }
      case 'ScanStmt':
        return this.scan(s);
      case 'SetAddStmt':
        return [this.call('setAdd', [this.get(s.stmt.set), this.read(s.stmt.value)], binaryen.none)];
      case 'WithStmt':
        return this.withStmt(s);
    }
  }

  private typeCheck(op: Operand, tag: number): Expr {
    const m = this.m;
    if (op.type !== 'local') return m.br(this.label(0));
    return this.brIf(m.i32.ne(this.call('valueType', [this.get(op.value)]), m.i32.const(tag)));
  }

  private scan(s: StmtOf<'ScanStmt'>): Expr[] {
    const m = this.m;
    const n = this.temp();
    const i = this.temp();
    const src = this.local(s.stmt.source);
    const key = this.local(s.stmt.key);
    const value = this.local(s.stmt.value);
    return [
      m.local.set(n, this.call('scanLength', [m.local.get(src, i32)])),
      m.local.set(i, m.i32.const(0)),
      this.block(() => {
        const loopName = `L${this.labelCounter++}`;
        this.labels.push(loopName);
        const body = [
          this.brIf(m.i32.ge_s(m.local.get(i, i32), m.local.get(n, i32)), 1),
          m.local.set(key, this.call('scanKey', [m.local.get(src, i32), m.local.get(i, i32)])),
          m.local.set(value, this.call('scanValue', [m.local.get(src, i32), m.local.get(i, i32)])),
          m.local.set(i, m.i32.add(m.local.get(i, i32), m.i32.const(1))),
          ...this.stmts(s.stmt.block),
          m.br(loopName),
        ];
        this.labels.pop();
        return [m.loop(loopName, m.block(null, body, binaryen.none))];
      }),
    ];
  }

  private withStmt(s: StmtOf<'WithStmt'>): Expr[] {
    const m = this.m;
    const target = this.local(s.stmt.local);
    const save = this.temp();
    const undef = this.temp();
    const path = s.stmt.path ?? [];
    let assign: Expr;
    if (path.length === 0) {
      assign = m.local.set(target, this.read(s.stmt.value));
    } else {
      const arr = this.temp();
      assign = m.block(null, [
        m.local.set(arr, this.call('mkArray', [m.i32.const(path.length)])),
        ...path.map((p) => this.call('arrAppend', [m.local.get(arr, i32), m.i32.const(this.ctx.strings[p].addr)], binaryen.none)),
        m.local.set(target, this.call('upsert', [m.local.get(save, i32), m.local.get(arr, i32), this.read(s.stmt.value)])),
      ], binaryen.none);
    }
    const inner = s.stmt.block;
    return [
      this.call('memoPush', [], binaryen.none),
      m.local.set(save, m.local.get(target, i32)),
      assign,
      m.local.set(undef, m.i32.const(1)),
      this.block(() => [...this.stmts(inner), m.local.set(undef, m.i32.const(0))]),
      m.local.set(target, m.local.get(save, i32)),
      this.call('memoPop', [], binaryen.none),
      this.brIf(m.local.get(undef, i32)),
    ];
  }

  private callStmt(s: StmtOf<'CallStmt'>): Expr[] {
    const m = this.m;
    const args = (s.stmt.args ?? []).map((a) => this.read(a));
    const target = this.local(s.stmt.result);
    const name = s.stmt.func;
    let call: Expr;
    if (this.ctx.funcIndex.has(name)) {
      if (this.ctx.funcArity.get(name) !== args.length) {
        throw new PlanError(`${this.where()}: ${name} takes ${this.ctx.funcArity.get(name)} arguments, called with ${args.length}`);
      }
      call = m.call(`plan:${name}`, args, i32);
    } else if (this.ctx.native.has(name)) {
      call = m.call(this.ctx.native.get(name)!, args, i32);
    } else {
      const ext = this.ctx.external.get(name);
      if (ext === undefined) throw new PlanError(`${this.where()}: undefined function ${JSON.stringify(name)}`);
      if (args.length > 4) throw new PlanError(`${this.where()}: too many built-in call arguments: ${JSON.stringify(name)}`);
      call = m.call(`opa_builtin${args.length}`, [m.i32.const(ext.id), m.i32.const(0), ...args], i32);
      if (!ext.hasResult) return [m.drop(call)];
    }
    return [m.local.set(target, call), this.brIf(m.i32.eqz(m.local.get(target, i32)))];
  }

  private callDynamic(s: StmtOf<'CallDynamicStmt'>): Expr[] {
    const m = this.m;
    const arr = this.temp();
    const idx = this.temp();
    const target = this.local(s.stmt.result);
    const args = s.stmt.args ?? [];
    const mapping = this.call('opa_json_parse', [m.i32.const(this.ctx.mapping.ptr), m.i32.const(this.ctx.mapping.len)]);
    return [
      m.local.set(arr, this.call('mkArray', [m.i32.const(s.stmt.path.length)])),
      ...s.stmt.path.map((p) => this.call('arrAppend', [m.local.get(arr, i32), this.read(p)], binaryen.none)),
      m.local.set(idx, this.call('mappingLookup', [mapping, m.local.get(arr, i32)])),
      this.brIf(m.i32.eqz(m.local.get(idx, i32))),
      m.local.set(target, m.call_indirect('dispatch', m.local.get(idx, i32), args.map((a) => this.get(a)),
        binaryen.createType(args.map(() => i32)), i32)),
      this.brIf(m.i32.eqz(m.local.get(target, i32)), 3),
    ];
  }
}
