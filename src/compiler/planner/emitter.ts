// The mutable state of planning one function or plan: the statement list being written (nested blocks swap it),
// the next free local, and which Rego variable lives in which local. Shared string and builtin tables belong to
// the Policy-wide Statics.
import type { Location as AstLocation } from '../ast.js';
import type { Block, Local, Operand, Stmt, StmtBodies, StmtType } from '../../ir/plan.js';
import type { Statics } from './statics.js';

export class PlanError extends Error {
  constructor(loc: AstLocation | undefined, message: string) {
    super(loc ? `${loc.file}:${loc.row}:${loc.col}: ${message}` : message);
    this.name = 'PlanError';
  }
}

export class Emitter {
  private stmts: Stmt[] = [];
  private next: number;
  /** Rego variable name → the local holding its value, for variables bound on the current path. */
  private readonly vars = new Map<string, Local>();
  loc: AstLocation | undefined;

  constructor(readonly statics: Statics, firstFree = 2) {
    this.next = firstFree;
  }

  local(): Local {
    return this.next++;
  }

  emit<K extends StmtType>(type: K, body: StmtBodies[K]): void {
    // Once per statement: one copy of the body, the location written into it (not spread from a second object).
    const stmt: Record<string, unknown> = { ...body };
    if (this.loc) {
      stmt.file = this.statics.file(this.loc.file);
      stmt.row = this.loc.row;
      stmt.col = this.loc.col;
    }
    this.stmts.push({ type, stmt } as unknown as Stmt);
  }

  /** Runs `fn` with an empty statement list and returns what it wrote as a block. */
  block(fn: () => void): Block {
    const saved = this.stmts;
    this.stmts = [];
    try {
      fn();
      return { stmts: this.stmts };
    } finally {
      this.stmts = saved;
    }
  }

  /** The blocks of a function or plan: each `fn` writes one top-level block. */
  blocks(fns: Array<() => void>): Block[] {
    return fns.map((fn) => this.block(fn));
  }

  lookup(name: string): Local | undefined {
    return this.vars.get(name);
  }

  /** Binds `name` while `k` plans the rest of the path, so sibling blocks never see the binding. */
  bind(name: string, local: Local, k: () => void): void {
    const prior = this.vars.get(name);
    this.vars.set(name, local);
    try {
      k();
    } finally {
      if (prior === undefined) this.vars.delete(name);
      else this.vars.set(name, prior);
    }
  }

  /** A local holding `op` (operands that are already locals are used as they are). */
  toLocal(op: Operand): Local {
    if (op.type === 'local') return op.value;
    const t = this.local();
    this.emit('AssignVarStmt', { source: op, target: t });
    return t;
  }

  str(s: string): Operand {
    return { type: 'string_index', value: this.statics.string(s) };
  }
}

export const local = (value: Local): Operand => ({ type: 'local', value });
export const bool = (value: boolean): Operand => ({ type: 'bool', value });
