// What the term, reference and body planners share while planning one function: the emitter for statements and
// locals, the rule tree that data references resolve against, and the queue of rule sets still to plan.
import type { Emitter } from './emitter.js';
import type { RuleSet, TreeNode } from './tree.js';

export interface Ctx {
  e: Emitter;
  tree: TreeNode;
  /** Asks for the function of a rule set to be planned (once). */
  need(set: RuleSet): void;
}

/** A continuation: plans the rest of the current path into the current block. */
export type K = () => void;
