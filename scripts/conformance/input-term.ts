// A case's `input_term` as the text OPA's wasm SDK hands opa_eval: the term parsed and printed back as a Rego
// value (sets stay sets; a trailing comma, which Rego allows and a value parser need not, is gone).
import type { Term } from '../../src/compiler/ast.js';
import { parseModule } from '../../src/compiler/parse-module.js';

export function inputTermText(term: string): string {
  const parsed = parseModule('input_term.rego', `package input_term\n\nv := ${term}\n`);
  const value = parsed.module?.rules[0]?.head.value;
  if (parsed.errors.length > 0 || !value) throw new Error(`input_term ${term} does not parse: ${parsed.errors.map((e) => e.message).join('; ')}`);
  return valueText(value);
}

function valueText(t: Term): string {
  switch (t.type) {
    case 'null':
      return 'null';
    case 'boolean':
      return String(t.value);
    case 'number':
      return t.value;
    case 'string':
      return JSON.stringify(t.value);
    case 'array':
      return `[${t.value.map(valueText).join(',')}]`;
    case 'set':
      return t.value.length === 0 ? 'set()' : `{${t.value.map(valueText).join(',')}}`;
    case 'object':
      return `{${t.value.map(([k, v]) => `${valueText(k)}:${valueText(v)}`).join(',')}}`;
    default:
      throw new Error(`input_term holds ${t.type}, which is no value`);
  }
}
