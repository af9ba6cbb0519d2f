// The trace ids the decision-log benchmarks give their rows (--trace-ids): real traffic carries a W3C traceparent
// with a random trace id per request, which lands each row at a random place of an index keyed by trace id, where
// one id for every row (the gateway input's own header) or none always append at its end. `sparse`: one row in
// 1,000 a trace id of its own.
export const traceIdModes = ['random', 'constant', 'sparse', 'none'] as const;
export type TraceIdMode = (typeof traceIdModes)[number];

/** The --trace-ids value, one of `allowed`; refused naming the value and the choices otherwise. */
export function traceIdMode(text: string, allowed: readonly TraceIdMode[]): TraceIdMode {
  if (!(allowed as readonly string[]).includes(text)) throw new Error(`--trace-ids ${JSON.stringify(text)}: choose one of ${allowed.join(', ')}`);
  return text as TraceIdMode;
}

/** The i-th of a sequence of trace ids that look random (32 lowercase hex digits), the same on every run. */
export function randomTraceId(i: number): string {
  let id = '';
  for (let k = 0; k < 4; k++) id += (mix32(i * 4 + k + 1) >>> 0).toString(16).padStart(8, '0');
  return id;
}

/** MurmurHash3's finaliser: consecutive inputs give unrelated outputs. */
function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return x ^ (x >>> 16);
}
