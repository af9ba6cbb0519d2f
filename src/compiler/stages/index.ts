// The compile stages in the order they run, named after OPA's (v1/ast/compile.go NewCompiler). Each takes the
// module set as the previous one left it. Still to come, in OPA's order after these: RewriteTemplateStrings (its
// check runs: check-template-strings.ts), RewriteExprTerms, RewriteComprehensionTerms (RewriteRefsInHead runs, for
// heads whose refs have variable keys), RewriteWithValues (runs, for values that look up by a variable; CheckWithTargets has its checks),
// RewriteEquals, RewriteDynamicTerms; CheckTypes checks a subset of OPA's type errors (check-types.ts).
import { checkDeprecatedBuiltins } from './check-deprecated-builtins.js';
import { checkDuplicateImports, checkKeywordOverrides } from './check-v1-rules.js';
import { checkRecursion } from './check-recursion.js';
import { checkRuleConflicts } from './check-rule-conflicts.js';
import { checkUnusedArgs, checkUnusedImports } from './check-strict.js';
import { checkSafetyRuleBodies, checkSafetyRuleHeads } from './check-safety.js';
import { checkTemplateStrings } from './check-template-strings.js';
import { checkTypes } from './check-types.js';
import { checkUndefinedFuncs } from './check-undefined-funcs.js';
import { checkWithTargets } from './check-with-targets.js';
import type { Stage } from './context.js';
import { resolveRefs } from './resolve-refs.js';
import { rewriteLocalVars } from './rewrite-local-vars.js';
import { rewriteRefsInHead } from './rewrite-refs-in-head.js';
import { rewriteRuleHeadRefs } from './rewrite-rule-head-refs.js';
import { rewriteWithValues } from './rewrite-with-values.js';

export const STAGES: readonly Stage[] = [
  checkUnusedImports,
  resolveRefs,
  rewriteRuleHeadRefs,
  checkKeywordOverrides,
  checkDuplicateImports,
  checkUnusedArgs,
  rewriteLocalVars,
  checkTemplateStrings,
  rewriteRefsInHead,
  rewriteWithValues,
  checkRuleConflicts,
  checkUndefinedFuncs,
  checkWithTargets,
  checkSafetyRuleHeads,
  checkSafetyRuleBodies,
  checkRecursion,
  checkTypes,
  checkDeprecatedBuiltins,
];
