// The annotations in effect for a rule (OPA docs: policy-language "Annotations", scope): its own rule-scope ones,
// its document's (those of any definition of the same rule), its package's, then the subpackages-scope ones of its
// package and of each package above it. rego.metadata.chain() lists them in that order (planner/metadata.ts); type
// checking applies their schemas the other way round, outermost first, so that the innermost say wins
// (stages/schema-annotations.ts).
import type { AnnotationScope, Annotations, Module, Rule } from './ast.js';

/** One annotation block in effect for a rule, and the path below data it is attached to. */
export interface InEffect {
  scope: AnnotationScope;
  /** The rule's document for rule and document scope, the package for package and subpackages scope. */
  path: string[];
  annotations: Annotations;
}

export class AnnotationScopes {
  /** Package and subpackages scope, by the JSON of the package path. */
  private readonly packages = new Map<string, Annotations[]>();
  /** Document scope, by the JSON of the document path. */
  private readonly documents = new Map<string, Annotations[]>();
  private readonly placeOf = new Map<Rule, { pkg: string[]; document: string[] }>();

  constructor(modules: Module[]) {
    const add = (map: Map<string, Annotations[]>, path: string[], a: Annotations) => {
      const key = JSON.stringify(path);
      map.set(key, [...(map.get(key) ?? []), a]);
    };
    for (const m of modules) {
      const pkg = packageNames(m);
      for (const a of m.annotations) if (a.scope === 'package' || a.scope === 'subpackages') add(this.packages, pkg, a);
      for (const rule of m.rules) {
        const document = documentPath(pkg, rule);
        this.placeOf.set(rule, { pkg, document });
        for (const a of rule.annotations ?? []) if (a.scope === 'document') add(this.documents, document, a);
      }
    }
  }

  /** The path below data of the document one of the modules' rules defines. */
  documentOf(rule: Rule): string[] {
    return this.placeOf.get(rule)?.document ?? [];
  }

  /**
   * The blocks in effect for one of the modules' rules, a group per scope from the rule's own out (rule, document,
   * package, then subpackages from the rule's package up), each group in the order the modules have them.
   */
  inEffect(rule: Rule): InEffect[][] {
    const { pkg, document } = this.placeOf.get(rule) ?? { pkg: [], document: [] };
    const own = (rule.annotations ?? []).filter((a) => a.scope === 'rule');
    const groups: InEffect[][] = [
      own.map((annotations) => ({ scope: 'rule', path: document, annotations })),
      (this.documents.get(JSON.stringify(document)) ?? []).map((annotations) => ({ scope: 'document', path: document, annotations })),
    ];
    for (let n = pkg.length; n >= 0; n--) {
      const path = pkg.slice(0, n);
      const here = this.packages.get(JSON.stringify(path)) ?? [];
      const of = (scope: AnnotationScope) => here.filter((a) => a.scope === scope).map((annotations) => ({ scope, path, annotations }));
      if (n === pkg.length) groups.push(of('package'));
      groups.push(of('subpackages'));
    }
    return groups;
  }
}

/** A module's package path below data. */
export function packageNames(m: Module): string[] {
  return m.package.path.slice(1).map((t) => (t.type === 'string' ? t.value : ''));
}

/** The document a rule defines: its package, its name and the constant names after it. */
function documentPath(pkg: string[], rule: Rule): string[] {
  const [name, ...rest] = rule.head.ref;
  const ground = rest.findIndex((t) => t.type !== 'string');
  const names = (ground < 0 ? rest : rest.slice(0, ground)).map((t) => (t as { value: string }).value);
  return [...pkg, name?.type === 'var' ? name.value : rule.head.name, ...names];
}
