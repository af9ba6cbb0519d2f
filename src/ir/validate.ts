// Structural checks of a plan before code generation, so a malformed or unsupported plan fails
// with an error naming the statement instead of producing a broken module.
import type { Block, Policy, StmtType } from './plan.js';

export class PlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlanError';
  }
}

type FieldKind = 'local' | 'operand' | 'int' | 'block' | 'blocks' | 'operands' | 'locals' | 'string' | 'ints' | 'bool';

/** Field kinds of every statement type this back end compiles (v1/ir/ir.go). */
const STMT_FIELDS: Record<StmtType, Record<string, FieldKind>> = {
  ArrayAppendStmt: { array: 'local', value: 'operand' },
  AssignIntStmt: { value: 'int', target: 'local' },
  AssignVarOnceStmt: { source: 'operand', target: 'local' },
  AssignVarStmt: { source: 'operand', target: 'local' },
  BlockStmt: { blocks: 'blocks' },
  BreakStmt: { index: 'int' },
  CallDynamicStmt: { path: 'operands', args: 'locals', result: 'local' },
  CallStmt: { func: 'string', args: 'operands', result: 'local' },
  DotStmt: { source: 'operand', key: 'operand', target: 'local' },
  EqualStmt: { a: 'operand', b: 'operand' },
  IsArrayStmt: { source: 'operand' },
  IsDefinedStmt: { source: 'local' },
  IsObjectStmt: { source: 'operand' },
  IsSetStmt: { source: 'operand' },
  IsUndefinedStmt: { source: 'local' },
  LenStmt: { source: 'operand', target: 'local' },
  MakeArrayStmt: { capacity: 'int', target: 'local' },
  MakeNullStmt: { target: 'local' },
  MakeNumberIntStmt: { value: 'int', target: 'local' },
  MakeNumberRefStmt: { index: 'int', target: 'local' },
  MakeObjectStmt: { target: 'local' },
  MakeSetStmt: { target: 'local' },
  NopStmt: {},
  NotEqualStmt: { a: 'operand', b: 'operand' },
  NotStmt: { block: 'block' },
  ObjectInsertOnceStmt: { key: 'operand', value: 'operand', object: 'local' },
  ObjectInsertStmt: { key: 'operand', value: 'operand', object: 'local' },
  ObjectMergeStmt: { a: 'local', b: 'local', target: 'local' },
  ResetLocalStmt: { target: 'local' },
  ResultSetAddStmt: { value: 'local' },
  ReturnLocalStmt: { source: 'local' },
  ScanStmt: { source: 'local', key: 'local', value: 'local', block: 'block' },
  SetAddStmt: { value: 'operand', set: 'local' },
  WithStmt: { local: 'local', path: 'ints', value: 'operand', block: 'block' },
};

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

/**
 * Checks that `plan` is a well-formed OPA plan this back end can compile; throws PlanError naming
 * the plan or function, block and statement at fault. Returns the plan typed as Policy.
 */
export function validatePlan(plan: unknown): Policy {
  if (typeof plan !== 'object' || plan === null || Array.isArray(plan)) throw new PlanError('plan: expected a JSON object');
  const p = plan as Policy;
  const strings = p.static?.strings ?? [];
  if (!Array.isArray(strings) || strings.some((s) => typeof s?.value !== 'string')) {
    throw new PlanError('static.strings: expected an array of {value: string}');
  }
  const builtins = p.static?.builtin_funcs ?? [];
  if (!Array.isArray(builtins) || builtins.some((b) => typeof b?.name !== 'string')) {
    throw new PlanError('static.builtin_funcs: expected an array of {name, decl}');
  }
  const funcs = p.funcs?.funcs ?? [];
  const plans = p.plans?.plans ?? [];
  if (!Array.isArray(funcs)) throw new PlanError('funcs.funcs: expected an array');
  if (!Array.isArray(plans)) throw new PlanError('plans.plans: expected an array');
  const callable = new Set<string>(builtins.map((b) => b.name));
  for (const [i, f] of funcs.entries()) {
    if (typeof f?.name !== 'string') throw new PlanError(`funcs[${i}]: missing name`);
    if (!Array.isArray(f.params) || f.params.length < 2 || !f.params.every(isInt)) {
      throw new PlanError(`func ${f.name}: params must be at least two locals (input, data)`);
    }
    if (!isInt(f.return)) throw new PlanError(`func ${f.name}: return must be a local`);
    if (f.path !== undefined && (!Array.isArray(f.path) || !f.path.every((s) => typeof s === 'string'))) {
      throw new PlanError(`func ${f.name}: path must be an array of strings`);
    }
    callable.add(f.name);
  }
  const ctx = { strings: strings.length, callable };
  for (const f of funcs) checkBlocks(f.blocks, `func ${f.name}`, ctx);
  for (const [i, pl] of plans.entries()) {
    if (typeof pl?.name !== 'string') throw new PlanError(`plans[${i}]: missing name`);
    checkBlocks(pl.blocks, `plan ${pl.name}`, ctx);
  }
  return p;
}

interface Ctx {
  strings: number;
  callable: Set<string>;
}

function checkBlocks(blocks: unknown, where: string, ctx: Ctx): void {
  if (!Array.isArray(blocks)) throw new PlanError(`${where}: blocks must be an array`);
  blocks.forEach((b, i) => checkBlock(b, `${where}, block ${i}`, ctx));
}

function checkBlock(block: unknown, where: string, ctx: Ctx): void {
  const stmts = (block as Block | null)?.stmts;
  if (!Array.isArray(stmts)) throw new PlanError(`${where}: block must have a stmts array`);
  for (let i = 0; i < stmts.length; i++) {
    const s = stmts[i] as { type?: unknown; stmt?: unknown } | null;
    const type = s?.type;
    // Locations are only spelled out when something is wrong: plans can hold many thousands of statements.
    const at = () => `${where}, stmt ${i} (${String(type)})`;
    if (typeof type !== 'string' || !(type in STMT_FIELDS)) throw new PlanError(`${at()}: unsupported statement type`);
    const body = s?.stmt;
    if (typeof body !== 'object' || body === null) throw new PlanError(`${at()}: missing stmt object`);
    const fields = STMT_FIELDS[type as StmtType];
    for (const name in fields) {
      checkField(fields[name]!, (body as Record<string, unknown>)[name], () => `${at()}: field ${name}`, ctx);
    }
    if (type === 'CallStmt') {
      const fn = (body as { func: string }).func;
      if (!ctx.callable.has(fn)) throw new PlanError(`${at()}: calls ${JSON.stringify(fn)}, which is neither a plan function nor a declared builtin`);
    }
    if (type === 'MakeNumberRefStmt') checkStringIndex((body as { index: number }).index, () => `${at()}: field index`, ctx);
  }
}

type Where = () => string;

function checkStringIndex(i: number, where: Where, ctx: Ctx): void {
  if (!isInt(i) || i < 0 || i >= ctx.strings) throw new PlanError(`${where()}: string index ${i} out of range (${ctx.strings} strings)`);
}

function checkOperand(o: unknown, where: Where, ctx: Ctx): void {
  const op = o as { type?: unknown; value?: unknown } | null;
  switch (op?.type) {
    case 'local':
      if (!isInt(op.value) || op.value < 0) throw new PlanError(`${where()}: bad local ${JSON.stringify(op.value)}`);
      return;
    case 'bool':
      if (typeof op.value !== 'boolean') throw new PlanError(`${where()}: bad bool ${JSON.stringify(op.value)}`);
      return;
    case 'string_index':
      checkStringIndex(op.value as number, where, ctx);
      return;
    default:
      throw new PlanError(`${where()}: expected an operand {type: local|bool|string_index, value}`);
  }
}

function checkField(kind: FieldKind, v: unknown, where: Where, ctx: Ctx): void {
  switch (kind) {
    case 'local':
      if (!isInt(v) || v < 0) throw new PlanError(`${where()}: expected a local, got ${JSON.stringify(v)}`);
      return;
    case 'int':
      if (!isInt(v)) throw new PlanError(`${where()}: expected an integer, got ${JSON.stringify(v)}`);
      return;
    case 'string':
      if (typeof v !== 'string') throw new PlanError(`${where()}: expected a string`);
      return;
    case 'bool':
      if (typeof v !== 'boolean') throw new PlanError(`${where()}: expected a boolean`);
      return;
    case 'operand':
      checkOperand(v, where, ctx);
      return;
    case 'operands':
      if (v !== null && v !== undefined && !Array.isArray(v)) throw new PlanError(`${where()}: expected an array of operands`);
      ((v as unknown[] | null) ?? []).forEach((o, i) => checkOperand(o, () => `${where()}[${i}]`, ctx));
      return;
    case 'locals':
      if (v !== null && v !== undefined && (!Array.isArray(v) || !v.every((x) => isInt(x) && x >= 0))) {
        throw new PlanError(`${where()}: expected an array of locals`);
      }
      return;
    case 'ints':
      if (v !== null && v !== undefined && (!Array.isArray(v) || !v.every(isInt))) throw new PlanError(`${where()}: expected an array of integers`);
      ((v as number[] | null) ?? []).forEach((i) => checkStringIndex(i, where, ctx));
      return;
    case 'block':
      checkBlock(v, where(), ctx);
      return;
    case 'blocks':
      if (v !== null && v !== undefined && !Array.isArray(v)) throw new PlanError(`${where()}: expected an array of blocks`);
      ((v as unknown[] | null) ?? []).forEach((b, i) => checkBlock(b, `${where()}[${i}]`, ctx));
      return;
  }
}
