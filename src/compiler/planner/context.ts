// What the term, reference and body planners share while planning one function: the emitter for statements and
// locals, the rule tree that data references resolve against, the queue of functions still to plan, and the
// functions and rules replaced by `with` in effect.
import type { Rule, Term } from '../ast.js';
import type { Local } from '../../ir/plan.js';
import type { CoverPoints } from './coverage.js';
import type { Emitter } from './emitter.js';
import type { Metadata } from './metadata.js';
import type { RuleSet, TreeNode } from './tree.js';

/**
 * Replacements by `with` of functions, builtins and rules ("data.pkg.f", "count" → a function reference or a
 * constant). Every function planned under a set of mocks gets its own generation prefix (g1, g2, ...), g0
 * being none, so the mocked copies never mix with the plain ones.
 */
export interface Mocks {
  generation: number;
  replace: ReadonlyMap<string, Mock>;
  /**
   * How many computed replacement values (`with f as x` for a local x, `with count as [1 | true][0]`) the
   * functions of this generation take as extra parameters after their arguments: such values are evaluated
   * where the `with` is written and passed down every call, as OPA's plans do.
   */
  captured: number;
}

/**
 * A replacement, and the mocks in effect where the `with` was written: a replacement function runs under those
 * (without their function replacements: a mock never calls another mock). `slot` is the index among the
 * captured values when the replacement is a computed value.
 */
export interface Mock {
  value: Term;
  scope: Mocks;
  slot?: number;
}

export const NO_MOCKS: Mocks = { generation: 0, replace: new Map(), captured: 0 };

/** Shared by every function of one plan. */
export interface Planning {
  tree: TreeNode;
  /** Asks for the function of a rule set under the given mocks to be planned (once). */
  need(set: RuleSet, mocks: Mocks): void;
  newGeneration(): number;
  metadata: Metadata;
  /** Set when the plan records which expressions and rule heads were evaluated (coverage.ts). */
  cover?: CoverPoints;
}

export interface Ctx extends Planning {
  e: Emitter;
  mocks: Mocks;
  /** The locals holding the captured replacement values of `mocks` (mocks.captured of them). */
  captured: Local[];
  /** The rule whose body is being planned (its first definition for an `else`), for rego.metadata.*. */
  within?: { set: RuleSet; rule: Rule };
}

/** A continuation: plans the rest of the current path into the current block. */
export type K = () => void;
