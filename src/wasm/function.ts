// Code generation for one IR function or for `eval`: IR blocks become wasm blocks, undefined
// statements branch out of the innermost block, and the label nesting mirrors OPA's own wasm
// compiler (scan bodies run directly inside a loop, Not/With wrap their block) because the
// planner's BreakStmt indices and CallDynamicStmt's exits count those labels.
import { wasm as w, type Expr } from './code.js';
import type { Block, Func, Local, Location, Operand, Plan, Policy, Stmt, StmtOf } from '../ir/plan.js';
import { PlanError } from '../ir/validate.js';
import { conflictHead } from './fault-message.js';
import type { DataLayout, StaticString } from './layout.js';

export interface ModuleContext {
  layout: DataLayout;
  strings: StaticString[];
  plan: Policy;
  /** Function index of an exported runtime function. */
  runtime: (name: string) => number;
  /** Position of each plan function in the plan, and the function index of the first one. */
  funcIndex: Map<string, number>;
  planFuncBase: number;
  funcArity: Map<string, number>;
  /** Each plan function's own arguments (past input and data, before any captured values): 0 for a rule. */
  funcArgs: Map<string, number>;
  /** Function index of each built-in the runtime implements. */
  native: Map<string, number>;
  /** Function index of the runtime predicate by which a native built-in leaves a call to the host (runtimeDefers). */
  deferred: Map<string, number>;
  external: Map<string, { id: number; hasResult: boolean }>;
  mapping: { ptr: number; len: number };
  trueAddr: number;
  falseAddr: number;
  /**
   * An address in the plan's data (as laid out from layout.start) as the instance sees it: the data is copied
   * to wherever the instance's region begins (verdict_instance_init), so addresses are relative to that.
   */
  addr(at: number): Expr;
  memoCount: number;
  /** Function indices of the imported env.opa_abort and env.opa_builtin0..4. */
  abortFn: number;
  builtinImport: number[];
  /** Type index of a function taking `params` i32s and returning one. */
  funcType: (params: number) => number;
}

// Value tags of src/wasm/runtime/value.ts.
const T_ARRAY = 5;
const T_OBJECT = 6;
const T_SET = 7;

export class FunctionCompiler {
  private readonly locals = new Map<Local, number>();
  private nextIndex: number;
  private readonly paramCount: number;
  private readonly labels: string[] = [];
  private labelCounter = 0;
  private memoIndex = -1;
  private resultSet = -1;
  /** Describes the statement being compiled, for error messages (built only when one is thrown). */
  private where: () => string = () => '';
  /**
   * Conflicts of a complete rule or function (AssignVarOnceStmt): the C string opening OPA's message, the local
   * set once a conflict was noted (the function aborts when it would return), each target's site local (where the
   * definition that gave its value is written), and the document local each per-definition local merges into.
   */
  private conflictHead = -1;
  private conflictFlag = -1;
  private readonly sites = new Map<Local, number>();
  private readonly docOf = new Map<Local, Local>();

  /** `params` are the IR locals bound to the wasm parameters (eval has one parameter, the context). */
  constructor(private readonly ctx: ModuleContext, params: Local[]) {
    params.forEach((p, i) => this.locals.set(p, i));
    this.paramCount = params.length;
    this.nextIndex = params.length;
  }

  /** Number of locals beyond the parameters (all i32). */
  extraLocals(): number {
    return this.nextIndex - this.paramCount;
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
    return w.localGet(this.local(l));
  }

  private call(runtimeName: string, args: Expr[]): Expr {
    return w.call(this.ctx.runtime(runtimeName), args);
  }

  private read(op: Operand): Expr {
    switch (op.type) {
      case 'local': return this.get(op.value);
      case 'bool': return this.ctx.addr(op.value ? this.ctx.trueAddr : this.ctx.falseAddr);
      case 'string_index': return this.ctx.addr(this.ctx.strings[op.value].addr);
    }
  }

  private label(index: number): string {
    const l = this.labels[this.labels.length - 1 - index];
    if (l === undefined) throw new PlanError(`${this.where()}: break index ${index} leaves the function`);
    return l;
  }

  /** Branch out of the innermost block when `undefinedCond` is non-zero. */
  private brIf(cond: Expr, index = 0): Expr {
    return w.br(this.label(index), cond);
  }

  private block(body: () => Expr[]): Expr {
    const name = `L${this.labelCounter++}`;
    this.labels.push(name);
    const stmts = body();
    this.labels.pop();
    return w.block(name, stmts);
  }

  private i64(v: number): Expr {
    return w.i64Const(BigInt.asIntN(64, BigInt(Math.trunc(v))));
  }

  /** A statement's source location with its file named. */
  private source(loc: Location): { file: string; row: number; col: number } {
    const files = this.ctx.plan.static?.files ?? [];
    return { file: loc.file !== undefined ? files[loc.file]?.value ?? '' : '', row: loc.row ?? 0, col: loc.col ?? 0 };
  }

  private abort(loc: Location, what: string): Expr[] {
    const { file, row, col } = this.source(loc);
    return this.abortWith(`${file}:${row}:${col}: ${what}`);
  }

  private abortWith(msg: string): Expr[] {
    return [
      w.call(this.ctx.abortFn, [this.ctx.addr(this.ctx.layout.cString(msg))]),
      w.unreachable(),
    ];
  }

  compileFunc(f: Func, index: number): Expr {
    this.local(f.return);
    const body: Expr[] = [];
    if (this.prepareConflicts(f)) body.push(w.localSet(this.conflictFlag, w.i32Const(0)));
    if (f.params.length === 2) {
      this.memoIndex = index;
      const ret = this.local(f.return);
      body.push(
        w.localSet(ret, this.call('memoGet', [w.i32Const(index)])),
        w.if(w.localGet(ret), w.return(w.localGet(ret))),
      );
    }
    f.blocks.forEach((b, i) => {
      this.where = () => `func ${f.name}, block ${i}`;
      body.push(this.block(() => this.stmts(b)));
    });
    body.push(...this.conflictCheck(), w.return(this.get(f.return)));
    return w.seq(body);
  }

  /** Finds the function's AssignVarOnceStmts; true when it has some, with the conflict state made ready. */
  private prepareConflicts(f: Func): boolean {
    let found = false;
    const visit = (blocks: Block[] | null | undefined): void => {
      for (const b of blocks ?? []) {
        for (const s of b.stmts) {
          if (s.type === 'AssignVarOnceStmt') {
            found = true;
            if (s.stmt.source.type === 'local') this.docOf.set(s.stmt.source.value, s.stmt.target);
          }
          const inner = s.stmt as { block?: Block; blocks?: Block[] | null };
          if (inner.block) visit([inner.block]);
          if (inner.blocks) visit(inner.blocks);
        }
      }
    };
    visit(f.blocks);
    if (!found) return false;
    this.conflictFlag = this.temp();
    this.conflictHead = this.ctx.layout.cString(conflictHead((this.ctx.funcArgs.get(f.name) ?? 0) > 0, (f.path ?? []).slice(1)));
    return true;
  }

  /** Aborts with the noted conflict, if the function noted one. */
  private conflictCheck(): Expr[] {
    if (this.conflictFlag < 0) return [];
    return [w.if(w.localGet(this.conflictFlag), w.seq(this.abortConflict()))];
  }

  /**
   * Aborts with the message's opening (what a host that does not read the runtime's record shows); our host
   * recognises it as the record's and words the whole error from the record.
   */
  private abortConflict(): Expr[] {
    return [w.call(this.ctx.abortFn, [this.ctx.addr(this.conflictHead)]), w.unreachable()];
  }

  private siteLocal(l: Local): number {
    let idx = this.sites.get(l);
    if (idx === undefined) {
      idx = this.temp();
      this.sites.set(l, idx);
    }
    return idx;
  }

  /**
   * AssignVarOnceStmt: the first value is kept; a different one is a conflict, noted with where each value's
   * definition is written (the statement's location, or the site of the local it copies), after which the
   * evaluation goes on to the remaining definitions, as OPA's does, to list them.
   */
  private assignOnce(s: StmtOf<'AssignVarOnceStmt'>): Expr[] {
    const t = this.local(s.stmt.target);
    const source = s.stmt.source;
    if (this.conflictFlag < 0) {
      return [this.block(() => [
        this.block(() => [
          this.brIf(w.i32Eqz(w.localGet(t))),
          this.brIf(this.call('valueEqual', [w.localGet(t), this.read(source)]), 1),
          ...this.abort(s.stmt, 'var assignment conflict'),
        ]),
        w.localSet(t, this.read(source)),
      ])];
    }
    const tSite = this.siteLocal(s.stmt.target);
    const { file, row, col } = this.source(s.stmt);
    const srcSite = source.type === 'local' && this.sites.has(source.value)
      ? w.localGet(this.sites.get(source.value)!)
      : this.ctx.addr(this.ctx.layout.cString(JSON.stringify([file, row, col])));
    const doc = this.docOf.get(s.stmt.target);
    const note = this.call('conflictNote', [
      this.ctx.addr(this.conflictHead),
      doc !== undefined ? w.localGet(this.siteLocal(doc)) : w.i32Const(0),
      doc !== undefined ? this.get(doc) : w.i32Const(0),
      w.localGet(tSite),
      w.localGet(t),
      srcSite,
      this.read(source),
    ]);
    return [this.block(() => [
      this.block(() => [
        this.brIf(w.i32Eqz(w.localGet(t))),
        this.brIf(this.call('valueEqual', [w.localGet(t), this.read(source)]), 1),
        w.localSet(this.conflictFlag, w.i32Const(1)),
        w.if(note, w.seq(this.abortConflict())),
        w.br(this.label(1)),
      ]),
      w.localSet(t, this.read(source)),
      w.localSet(tSite, source.type === 'local' && this.sites.has(source.value)
        ? w.localGet(this.sites.get(source.value)!)
        : this.ctx.addr(this.ctx.layout.cString(JSON.stringify([file, row, col])))),
    ])];
  }

  compileEval(plans: Plan[]): Expr {
    const ctxParam = 0;
    const eid = this.temp();
    this.resultSet = this.temp();
    const load = (offset: number) => w.i32Load(offset, w.localGet(ctxParam));
    const main = this.block(() => {
      const out: Expr[] = [];
      plans.forEach((plan, i) => {
        out.push(this.block(() => {
          const ep: Expr[] = [this.brIf(w.i32Ne(w.localGet(eid), w.i32Const(i)))];
          plan.blocks.forEach((b, j) => {
            this.where = () => `plan ${plan.name}, block ${j}`;
            ep.push(this.block(() => this.stmts(b)));
          });
          ep.push(w.br(this.label(1)));
          return ep;
        }));
      });
      out.push(...this.abortWith('internal: illegal entrypoint id'));
      return out;
    });
    return w.seq([
      this.call('memoInit', [w.i32Const(this.ctx.memoCount)]),
      w.localSet(this.local(0), load(0)),
      w.localSet(this.local(1), load(4)),
      w.localSet(this.resultSet, load(8)),
      w.localSet(eid, load(12)),
      main,
    ]);
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
    switch (s.type) {
      case 'ArrayAppendStmt':
        return [this.call('arrAppend', [this.get(s.stmt.array), this.read(s.stmt.value)])];
      case 'AssignIntStmt':
        return [this.call('numberSetInt', [this.get(s.stmt.target), this.i64(s.stmt.value)])];
      case 'AssignVarOnceStmt':
        return this.assignOnce(s);
      case 'AssignVarStmt':
        return [w.localSet(this.local(s.stmt.target), this.read(s.stmt.source))];
      case 'BlockStmt':
        return (s.stmt.blocks ?? []).map((b) => this.block(() => this.stmts(b)));
      case 'BreakStmt':
        return [w.br(this.label(s.stmt.index))];
      case 'CallDynamicStmt':
        return this.callDynamic(s);
      case 'CallStmt':
        return this.callStmt(s);
      case 'DotStmt': {
        const src = s.stmt.source;
        if (src.type !== 'local') return [w.br(this.label(0))];
        const t = this.local(s.stmt.target);
        return [
          w.localSet(t, this.call('valueGet', [this.get(src.value), this.read(s.stmt.key)])),
          this.brIf(w.i32Eqz(w.localGet(t))),
        ];
      }
      case 'EqualStmt':
        return [this.brIf(w.i32Eqz(this.call('valueEqual', [this.read(s.stmt.a), this.read(s.stmt.b)])))];
      case 'NotEqualStmt':
        return [this.brIf(this.call('valueEqual', [this.read(s.stmt.a), this.read(s.stmt.b)]))];
      case 'IsArrayStmt':
        return [this.typeCheck(s.stmt.source, T_ARRAY)];
      case 'IsObjectStmt':
        return [this.typeCheck(s.stmt.source, T_OBJECT)];
      case 'IsSetStmt':
        return [this.typeCheck(s.stmt.source, T_SET)];
      case 'IsDefinedStmt':
        return [this.brIf(w.i32Eqz(this.get(s.stmt.source)))];
      case 'IsUndefinedStmt':
        return [this.brIf(this.get(s.stmt.source))];
      case 'LenStmt':
        return [w.localSet(this.local(s.stmt.target), this.call('valueLength', [this.read(s.stmt.source)]))];
      case 'MakeArrayStmt':
        return [w.localSet(this.local(s.stmt.target), this.call('mkArray', [w.i32Const(s.stmt.capacity)]))];
      case 'MakeNullStmt':
        return [w.localSet(this.local(s.stmt.target), this.call('mkNull', []))];
      case 'MakeNumberIntStmt':
        return [w.localSet(this.local(s.stmt.target), this.call('mkInt', [this.i64(s.stmt.value)]))];
      case 'MakeNumberRefStmt': {
        const str = this.ctx.strings[s.stmt.index];
        return [w.localSet(this.local(s.stmt.target), this.call('mkNumberRef', [this.ctx.addr(str.ptr), w.i32Const(str.len)]))];
      }
      case 'MakeObjectStmt':
        return [w.localSet(this.local(s.stmt.target), this.call('mkObject', []))];
      case 'MakeSetStmt':
        return [w.localSet(this.local(s.stmt.target), this.call('mkSet', []))];
      case 'NopStmt':
        return [];
      case 'NotStmt': {
        const cond = this.temp();
        const inner = s.stmt.block;
        return [
          w.localSet(cond, w.i32Const(1)),
          this.block(() => [...this.stmts(inner), w.localSet(cond, w.i32Const(0))]),
          this.brIf(w.i32Eqz(w.localGet(cond))),
        ];
      }
      case 'ObjectInsertOnceStmt': {
        const tmp = this.temp();
        const { key, value, object } = s.stmt;
        return [this.block(() => [
          this.block(() => [
            w.localSet(tmp, this.call('valueGet', [this.get(object), this.read(key)])),
            this.brIf(w.i32Eqz(w.localGet(tmp))),
            this.brIf(this.call('valueEqual', [w.localGet(tmp), this.read(value)]), 1),
            ...this.abort(s.stmt, 'object keys must be unique'),
          ]),
          this.call('objInsert', [this.get(object), this.read(key), this.read(value)]),
        ])];
      }
      case 'ObjectInsertStmt':
        return [this.call('objInsert', [this.get(s.stmt.object), this.read(s.stmt.key), this.read(s.stmt.value)])];
      case 'ObjectMergeStmt':
        return [w.localSet(this.local(s.stmt.target), this.call('objectMerge', [this.get(s.stmt.a), this.get(s.stmt.b)]))];
      case 'ResetLocalStmt':
        return [w.localSet(this.local(s.stmt.target), w.i32Const(0))];
      case 'ResultSetAddStmt':
        if (this.resultSet < 0) throw new PlanError(`${this.where()}: ResultSetAddStmt outside a plan`);
        return [this.call('setAdd', [w.localGet(this.resultSet), this.get(s.stmt.value)])];
      case 'ReturnLocalStmt': {
        const out: Expr[] = [];
        out.push(...this.conflictCheck());
        if (this.memoIndex >= 0) out.push(this.call('memoSet', [w.i32Const(this.memoIndex), this.get(s.stmt.source)]));
        out.push(w.return(this.get(s.stmt.source)));
        return out;
      }
      case 'ScanStmt':
        return this.scan(s);
      case 'SetAddStmt':
        return [this.call('setAdd', [this.get(s.stmt.set), this.read(s.stmt.value)])];
      case 'WithStmt':
        return this.withStmt(s);
    }
  }

  private typeCheck(op: Operand, tag: number): Expr {
    if (op.type !== 'local') return w.br(this.label(0));
    return this.brIf(w.i32Ne(this.call('valueType', [this.get(op.value)]), w.i32Const(tag)));
  }

  private scan(s: StmtOf<'ScanStmt'>): Expr[] {
    const n = this.temp();
    const i = this.temp();
    const src = this.local(s.stmt.source);
    const key = this.local(s.stmt.key);
    const value = this.local(s.stmt.value);
    return [
      w.localSet(n, this.call('scanLength', [w.localGet(src)])),
      w.localSet(i, w.i32Const(0)),
      this.block(() => {
        const loopName = `L${this.labelCounter++}`;
        this.labels.push(loopName);
        const body = [
          this.brIf(w.i32GeS(w.localGet(i), w.localGet(n)), 1),
          w.localSet(key, this.call('scanKey', [w.localGet(src), w.localGet(i)])),
          w.localSet(value, this.call('scanValue', [w.localGet(src), w.localGet(i)])),
          w.localSet(i, w.i32Add(w.localGet(i), w.i32Const(1))),
          ...this.stmts(s.stmt.block),
          w.br(loopName),
        ];
        this.labels.pop();
        return [w.loop(loopName, body)];
      }),
    ];
  }

  private withStmt(s: StmtOf<'WithStmt'>): Expr[] {
    const target = this.local(s.stmt.local);
    const save = this.temp();
    const undef = this.temp();
    const path = s.stmt.path ?? [];
    let assign: Expr;
    if (path.length === 0) {
      assign = w.localSet(target, this.read(s.stmt.value));
    } else {
      const arr = this.temp();
      assign = w.seq([
        w.localSet(arr, this.call('mkArray', [w.i32Const(path.length)])),
        ...path.map((p) => this.call('arrAppend', [w.localGet(arr), this.ctx.addr(this.ctx.strings[p].addr)])),
        w.localSet(target, this.call('upsert', [w.localGet(save), w.localGet(arr), this.read(s.stmt.value)])),
      ]);
    }
    const inner = s.stmt.block;
    return [
      this.call('memoPush', []),
      w.localSet(save, w.localGet(target)),
      assign,
      w.localSet(undef, w.i32Const(1)),
      this.block(() => [...this.stmts(inner), w.localSet(undef, w.i32Const(0))]),
      w.localSet(target, w.localGet(save)),
      this.call('memoPop', []),
      this.brIf(w.localGet(undef)),
    ];
  }

  private callStmt(s: StmtOf<'CallStmt'>): Expr[] {
    const args = (s.stmt.args ?? []).map((a) => this.read(a));
    const target = this.local(s.stmt.result);
    const name = s.stmt.func;
    if (this.ctx.funcIndex.has(name)) {
      if (this.ctx.funcArity.get(name) !== args.length) {
        throw new PlanError(`${this.where()}: ${name} takes ${this.ctx.funcArity.get(name)} arguments, called with ${args.length}`);
      }
      const call = w.call(this.ctx.planFuncBase + this.ctx.funcIndex.get(name)!, args);
      return [w.localSet(target, call), this.brIf(w.i32Eqz(w.localGet(target)))];
    }
    const native = this.ctx.native.get(name);
    const deferral = this.ctx.deferred.get(name);
    let assign: Expr;
    if (native !== undefined && deferral !== undefined) {
      // Operands are locals or constants, so reading them again costs nothing and changes nothing.
      const toHost = this.temp();
      assign = w.seq([
        w.localSet(toHost, w.call(deferral, args)),
        w.if(w.localGet(toHost), w.localSet(target, this.hostCall(name, args))),
        w.if(w.i32Eqz(w.localGet(toHost)), w.localSet(target, w.call(native, args))),
      ]);
    } else if (native !== undefined) {
      assign = w.localSet(target, w.call(native, args));
    } else {
      const call = this.hostCall(name, args);
      if (!this.ctx.external.get(name)!.hasResult) return [w.drop(call)];
      assign = w.localSet(target, call);
    }
    return [assign, w.if(w.i32Eqz(w.localGet(target)), w.seq([this.builtinFailed(s), w.br(this.label(0))]))];
  }

  /** The call through OPA's builtin import, answered by the host. */
  private hostCall(name: string, args: Expr[]): Expr {
    const ext = this.ctx.external.get(name);
    if (ext === undefined) throw new PlanError(`${this.where()}: undefined function ${JSON.stringify(name)}`);
    if (args.length > 4) throw new PlanError(`${this.where()}: too many built-in call arguments: ${JSON.stringify(name)}`);
    return w.call(this.ctx.builtinImport[args.length]!, [w.i32Const(ext.id), w.i32Const(0), ...args]);
  }

  /**
   * A builtin answered undefined: the runtime keeps the first such failure with where it happened, which
   * builtin and its operands (src/wasm/runtime/faults.ts), for hosts that report builtin errors. Only the
   * undefined path pays for this.
   */
  private builtinFailed(s: StmtOf<'CallStmt'>): Expr {
    const args = s.stmt.args ?? [];
    const operands = [0, 1, 2, 3].map((i) => (args[i] ? this.read(args[i]) : w.i32Const(0)));
    return this.call('builtinFailed', [this.ctx.addr(this.ctx.layout.cString(JSON.stringify(this.source(s.stmt)))), this.ctx.addr(this.ctx.layout.cString(s.stmt.func)), ...operands]);
  }

  private callDynamic(s: StmtOf<'CallDynamicStmt'>): Expr[] {
    const arr = this.temp();
    const idx = this.temp();
    const target = this.local(s.stmt.result);
    const args = s.stmt.args ?? [];
    const mapping = this.call('opa_json_parse', [this.ctx.addr(this.ctx.mapping.ptr), w.i32Const(this.ctx.mapping.len)]);
    return [
      w.localSet(arr, this.call('mkArray', [w.i32Const(s.stmt.path.length)])),
      ...s.stmt.path.map((p) => this.call('arrAppend', [w.localGet(arr), this.read(p)])),
      w.localSet(idx, this.call('mappingLookup', [mapping, w.localGet(arr)])),
      this.brIf(w.i32Eqz(w.localGet(idx))),
      w.localSet(target, w.callIndirect(this.ctx.funcType(args.length), w.localGet(idx), args.map((a) => this.get(a)))),
      this.brIf(w.i32Eqz(w.localGet(target)), 3),
    ];
  }
}
