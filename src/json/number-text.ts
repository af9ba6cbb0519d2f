// A JSON number kept as its text. OPA keeps json.Number text end to end (123456789012345678901234567890,
// 1e400, 1.0 and -0 come back as written), while a JS number would round or rewrite them. The reader gives
// a NumberText for every number whose text a JS number would not print back unchanged; the writer prints
// it as written.

/** Set by writeJson while it serialises: NumberText.toJSON then hands back a marked string it replaces. */
let rawMarker: string | undefined;
let marked = 0;

export class NumberText {
  constructor(readonly text: string) {}

  /** Inside writeJson, the text exactly; elsewhere exact where JSON.rawJSON exists (Node 22), a double otherwise. */
  toJSON(): unknown {
    if (rawMarker !== undefined) {
      marked++;
      return rawMarker + this.text;
    }
    const raw = (JSON as unknown as { rawJSON?: (text: string) => unknown }).rawJSON;
    return raw ? raw(this.text) : Number(this.text);
  }

  valueOf(): number {
    return Number(this.text);
  }

  toString(): string {
    return this.text;
  }
}

/** Runs JSON.stringify with NumberText printed as written; the marker is per process and never guessable. */
export function withRawNumbers(marker: string, stringify: () => string | undefined): { text: string | undefined; marked: boolean } {
  rawMarker = marker;
  marked = 0;
  try {
    const text = stringify();
    return { text, marked: marked > 0 };
  } finally {
    rawMarker = undefined;
  }
}

const plainInteger = /^-?[1-9][0-9]{0,14}$/;

/** A JSON number text that a JS number prints back unchanged. */
export function printsBack(text: string): boolean {
  return plainInteger.test(text) || text === '0' || String(Number(text)) === text;
}

/** A number's JS form: a JS number when it prints back as the same text, its NumberText otherwise. */
export function numberFromText(text: string): number | NumberText {
  return printsBack(text) ? Number(text) : new NumberText(text);
}

const LOG2_10 = Math.log2(10);

/**
 * OPA refuses an input number whose binary exponent is beyond ±100,000 (x = m·2^e with 0.5 ≤ |m| < 1): its
 * arbitrary-precision numbers stop there ("invalid number: number too big"). Zero is always fine.
 */
export function beyondOpaRange(text: string): boolean {
  const m = /^-?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!m) return false;
  const digits = `${m[1] ?? ''}${m[2] ?? ''}`.replace(/^0+/, '');
  if (digits === '') return false;
  // x = 0.d1d2d3... × 10^(decimal exponent)
  const decimalExponent = Number(m[3] ?? 0) - (m[2]?.length ?? 0) + digits.length;
  const leading = Number(`0.${digits.slice(0, 17)}`);
  const exponent = Math.floor(Math.log2(leading) + decimalExponent * LOG2_10) + 1;
  return exponent > 100_000 || exponent < -100_000;
}
