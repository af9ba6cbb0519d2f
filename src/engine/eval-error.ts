// An error raised while a compiled policy ran (a conflict, an abort), in OPA's {code, message, location} shape,
// for `verdict eval` and the REST APIs alike. Our runtime reports `file:row:col: message`; OPA's error keeps the
// location apart.

export interface EvalErrorDetail {
  code: string;
  message: string;
  location?: { file: string; row: number; col: number };
}

/** The runtime's conflicts (src/wasm/fault-message.ts conflictErrorText, the object inserts), and OPA wasm's. */
const CONFLICT = /conflict|^object keys must be unique$/;

export function evalErrorDetail(err: unknown): EvalErrorDetail {
  const text = err instanceof Error ? err.message : String(err);
  const m = /^(.*?):(\d+):(\d+): (.*)$/s.exec(text);
  const message = m ? m[4]! : text;
  const code = CONFLICT.test(message) ? 'eval_conflict_error' : 'eval_internal_error';
  return m ? { code, message, location: { file: m[1]!, row: Number(m[2]), col: Number(m[3]) } } : { code, message };
}
