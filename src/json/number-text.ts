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
