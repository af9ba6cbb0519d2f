// Rule heads with refs under a capabilities document that predates them (OPA's rewriteRuleHeadRefs): only v0
// modules can get here, since v1 needs the rego_v1 feature, which implies both kinds of ref head.
import type { Module } from './ast.js';
import { regoError, type RegoError } from './errors.js';
import { RegoText } from './rego-text.js';

/** OPA's errors for ref heads the features do not allow; none without a capabilities document. */
export function headRefCapabilityErrors(modules: readonly Module[], features: ReadonlySet<string> | undefined): RegoError[] {
  if (!features) return [];
  const modern = features.has('rego_v1') || features.has('rego_v2');
  const stringPrefixes = modern || features.has('rule_head_ref_string_prefixes');
  const generalRefs = modern || features.has('rule_head_refs');
  if (stringPrefixes && generalRefs) return [];
  const text = new RegoText();
  const errors: RegoError[] = [];
  for (const module of modules) {
    for (const rule of module.rules) {
      const { ref, name, key, value } = rule.head;
      const refText = () => text.term({ type: 'ref', value: ref, loc: rule.head.loc });
      if (!stringPrefixes && !generalRefs && name === '') {
        errors.push(regoError('rego_compile_error', rule.loc, `rule heads with refs are not supported: ${refText()}`));
        continue;
      }
      if (generalRefs) continue;
      const multiValue = key !== undefined && value === undefined;
      for (let i = 1; i < ref.length; i++) {
        if ((multiValue || i !== ref.length - 1) && ref[i]!.type !== 'string') {
          errors.push(regoError('rego_type_error', rule.loc, `rule heads with general refs (containing variables) are not supported: ${refText()}`));
        }
      }
    }
  }
  return errors;
}
