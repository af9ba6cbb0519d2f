// The Policy-wide tables every plan and function refers to by index: strings, file names and the builtins used.
import type { BuiltinFunc, Static } from '../../ir/plan.js';

/** A builtin's declaration as `opa capabilities` prints it. */
export type BuiltinDecl = BuiltinFunc['decl'];

export class Statics {
  private readonly strings = new Map<string, number>();
  private readonly files = new Map<string, number>();
  private readonly used = new Map<string, BuiltinDecl>();

  constructor(private readonly builtins: ReadonlyMap<string, BuiltinDecl>) {}

  string(s: string): number {
    let i = this.strings.get(s);
    if (i === undefined) this.strings.set(s, (i = this.strings.size));
    return i;
  }

  file(name: string): number {
    let i = this.files.get(name);
    if (i === undefined) this.files.set(name, (i = this.files.size));
    return i;
  }

  builtin(name: string): BuiltinDecl | undefined {
    return this.builtins.get(name);
  }

  useBuiltin(name: string): void {
    const decl = this.builtins.get(name);
    if (decl && !this.used.has(name)) this.used.set(name, decl);
  }

  toStatic(): Static {
    return {
      strings: [...this.strings.keys()].map((value) => ({ value })),
      builtin_funcs: [...this.used].map(([name, decl]) => ({ name, decl })),
      files: [...this.files.keys()].map((value) => ({ value })),
    };
  }
}
