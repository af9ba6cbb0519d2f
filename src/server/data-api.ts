// OPA's Data API (v1 and v0) and the default decision (POST /), docs/docs/rest-api.md "Data API".
// POST /v1/data is the hot path: it is reached through the fast dispatcher in app.ts without express, so
// each step here does the least work it can (one JSON parse, one stringify of the input, no copies).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { EvaluationError } from '../engine/program.js';
import type { EvaluateOptions } from '../engine/engine.js';
import { StoreError, splitPath } from '../engine/store.js';
import { isObject } from '../bundle/bundle.js';
import { InputNumberError, checkInputNumbers, isBlank, isYaml, parseDocument, parseEnvelope, readBody } from './body.js';
import { goJsonKind } from '../json/kinds.js';
import { JsonSyntaxError, readJson, type WatchedMember } from '../json/reader.js';
import { readJsonDataFile } from '../json/data-file.js';
import type { DataWrite, ServerContext } from './context.js';
import { decide, type Decision } from './decisions.js';
import { evaluationFailed, invalidParameter, storeFailed, undefinedDocument } from './errors.js';
import { boolParam, sendEmpty, sendJson, sendJsonText } from './respond.js';
import { writeJson, writeJsonLeading } from '../json/writer.js';
import { instrumented, withInstrumentation } from './instrument.js';
import type { Instrumented } from '../compiler/explain/instrument.js';
import { explainMode, explanation } from './explain.js';
import { buildInfo } from '../version.js';

const encoder = new TextEncoder();
const missingInputWarning = { code: 'api_usage_warning', message: "'input' key missing from the request" };

/**
 * Splits the part of a URL path after the API prefix into unescaped segments (OPA unescapes each one).
 * Undecodable escapes never get here: app.ts answers them with Go's plain 400 first.
 */
export function pathSegments(rawPath: string): string[] {
  return splitPath(rawPath).map((s) => decodeURIComponent(s));
}

function requester(req: IncomingMessage): string {
  return `${req.socket.remoteAddress ?? ''}:${req.socket.remotePort ?? ''}`;
}

/** The v1 Data API's evaluation parameters (the v0 API and the Query API take none, as OPA). */
function evaluateOptions(query: URLSearchParams): EvaluateOptions {
  return { strictBuiltinErrors: boolParam(query, 'strict-builtin-errors') };
}

/** The shared decision pipeline (decisions.ts) for one Data API request; a failed evaluation is OPA's 500. */
function decideRequest(
  ctx: ServerContext,
  req: IncomingMessage,
  path: string[],
  input: unknown,
  inputText: Uint8Array | undefined,
  timing: { started: bigint; inputParsed: bigint },
  options: EvaluateOptions = {},
  /** What the body reader found out about inputText (parseEnvelope). */
  read: { credentialFree?: boolean; credentialMembers?: readonly WatchedMember[]; validUtf8?: boolean } = {},
): Decision | Promise<Decision> {
  const failed = (err: unknown): never => {
    throw err instanceof EvaluationError ? evaluationFailed(err) : err;
  };
  try {
    const decided = decide(ctx, { path, input, inputText, inputCredentialFree: read.credentialFree, inputCredentialMembers: read.credentialMembers, inputValidUtf8: read.validUtf8, requestedBy: requester(req), request: req, timing, options });
    return decided instanceof Promise ? decided.catch(failed) : decided;
  } catch (err) {
    return failed(err);
  }
}

function provenance(ctx: ServerContext) {
  const bundles: Record<string, { revision: string }> = {};
  for (const b of ctx.engine.bundles) bundles[b.name] = { revision: b.manifest.revision };
  // OPA leaves the member out when no bundle is active.
  return { ...buildInfo(ctx.version), ...(ctx.engine.bundles.length > 0 ? { bundles } : {}) };
}

/**
 * Answers with DataResponseV1, its fields in the order OPA writes them: decision_id, provenance, explanation,
 * metrics, result, warning. ?instrument=true reports the metrics, with its own figures, as OPA does.
 */
function sendDataResponse(ctx: ServerContext, req: IncomingMessage, res: ServerResponse, query: URLSearchParams, decision: Decision, warn: boolean, explained?: unknown[], instrumentation?: Instrumented): void {
  const body: Record<string, unknown> = {};
  if (boolParam(query, 'provenance')) body.provenance = provenance(ctx);
  // OPA keeps an undefined decision's explanation only in full mode (debug, notes and fails leave it out).
  if (explained && (decision.defined || explainMode(query) === 'full')) body.explanation = explained;
  if (instrumentation) body.metrics = withInstrumentation(decision.metrics, instrumentation, { path: true, defined: decision.defined, result: decision.result });
  else if (boolParam(query, 'metrics')) body.metrics = decision.metrics;
  if (decision.defined) body.result = decision.result;
  if (warn) body.warning = missingInputWarning;
  const indent = boolParam(query, 'pretty') ? 2 : undefined;
  // The decision id goes in front of the rest's text, not through the JSON writer (writeJsonLeading).
  sendJsonText(req, res, 200, decision.decisionId ? writeJsonLeading('decision_id', decision.decisionId, body, indent) : writeJson(body, indent), ctx.encoding);
}

/** ?explain: the explanation of `data.<path> = _`, computed before the decision so a refusal decides nothing. */
function explainData(ctx: ServerContext, query: URLSearchParams, path: string[], input: unknown): unknown[] | undefined {
  const mode = explainMode(query);
  return mode && explanation(ctx, query, mode, { path, input });
}

/** POST /v1/data/{path}: body {"input": ...}. */
export async function postData(ctx: ServerContext, req: IncomingMessage, res: ServerResponse, rawPath: string, query: URLSearchParams): Promise<void> {
  const started = process.hrtime.bigint();
  const path = pathSegments(rawPath);
  const body = await readBody(req, ctx.decoding);
  let request: unknown;
  let inputText: Uint8Array | undefined;
  let read: ReturnType<typeof parseEnvelope> | undefined;
  if (!isBlank(body)) {
    try {
      read = parseEnvelope(body, isYaml(req), 'input');
      ({ value: request, memberText: inputText } = read);
    } catch (err) {
      if (err instanceof InputNumberError) throw invalidParameter(err.message);
      throw invalidParameter(`body contains malformed input document: ${(err as Error).message}`);
    }
  }
  if (request !== undefined && request !== null && !isObject(request)) {
    // In the words of Go's encoding/json filling OPA's request type.
    throw invalidParameter(`body contains malformed input document: json: cannot unmarshal ${goJsonKind(request)} into Go value of type types.alias`);
  }
  // OPA reads "input": null as no input at all (the warning included).
  const hasInput = isObject(request) && request.input !== undefined && request.input !== null;
  const input = hasInput ? (request as { input: unknown }).input : undefined;
  const timing = { started, inputParsed: process.hrtime.bigint() };
  const explained = explainData(ctx, query, path, input);
  const instrumentation = instrumented(ctx, query, { path, input });
  const decided = decideRequest(ctx, req, path, input, hasInput ? inputText : undefined, timing, evaluateOptions(query), read);
  const decision = decided instanceof Promise ? await decided : decided;
  sendDataResponse(ctx, req, res, query, decision, !hasInput, explained, instrumentation);
}

/** GET /v1/data/{path}?input=<json>. */
export async function getData(ctx: ServerContext, req: IncomingMessage, res: ServerResponse, rawPath: string, query: URLSearchParams): Promise<void> {
  const started = process.hrtime.bigint();
  const path = pathSegments(rawPath);
  // The last of repeated `input` parameters counts, read as OPA reads it (as a data file: its messages for an
  // empty value, "EOF", and for text after the document).
  const inputParam = query.getAll('input').at(-1);
  let input: unknown;
  // The parameter's text stands for the input (decision log) only when it is the document alone.
  let inputText: Uint8Array | undefined;
  if (inputParam !== undefined) {
    try {
      try {
        input = readJson(inputParam);
        inputText = encoder.encode(inputParam);
      } catch (err) {
        if (!(err instanceof JsonSyntaxError)) throw err;
        input = readJsonDataFile(inputParam);
      }
      checkInputNumbers(input);
    } catch (err) {
      if (err instanceof InputNumberError) throw invalidParameter(err.message);
      throw invalidParameter(`parameter contains malformed input document: ${(err as Error).message}`);
    }
  }
  const timing = { started, inputParsed: process.hrtime.bigint() };
  const explained = explainData(ctx, query, path, input);
  const instrumentation = instrumented(ctx, query, { path, input });
  const decided = decideRequest(ctx, req, path, input, input === undefined ? undefined : inputText, timing, evaluateOptions(query));
  const decision = decided instanceof Promise ? await decided : decided;
  sendDataResponse(ctx, req, res, query, decision, false, explained, instrumentation);
}

/** POST /v0/data/{path} and POST /: the raw body is the input; undefined is a 404. */
export async function postDataV0(ctx: ServerContext, req: IncomingMessage, res: ServerResponse, rawPath: string, query: URLSearchParams): Promise<void> {
  const started = process.hrtime.bigint();
  const path = pathSegments(rawPath);
  const body = await readBody(req, ctx.decoding);
  // An empty body is a null input, as OPA reads it.
  let input: unknown = null;
  let inputText: Uint8Array | undefined;
  let read: ReturnType<typeof parseEnvelope> | undefined;
  if (!isBlank(body)) {
    try {
      read = parseEnvelope(body, isYaml(req));
      ({ value: input, memberText: inputText } = read);
    } catch (err) {
      if (err instanceof InputNumberError) throw invalidParameter(`unexpected parse error for input: ${err.message}`);
      throw invalidParameter(`unexpected parse error for input: body contains malformed input document: ${(err as Error).message}`);
    }
  }
  const decided = decideRequest(ctx, req, path, input, inputText, { started, inputParsed: process.hrtime.bigint() }, {}, read);
  const decision = decided instanceof Promise ? await decided : decided;
  if (!decision.defined) {
    const ref = ['data', ...path].join('.');
    throw undefinedDocument(ctx.engine.hasRulesAt(path) ? `document undefined: ${ref}` : `document missing: ${ref}`);
  }
  sendJson(req, res, 200, decision.result, boolParam(query, 'pretty'), ctx.encoding);
}

/** Data API writes take JSON only, whatever the content type (as OPA). */
async function writeBody(ctx: ServerContext, req: IncomingMessage): Promise<unknown> {
  const body = await readBody(req, ctx.decoding);
  try {
    return parseDocument(body, false);
  } catch (err) {
    throw invalidParameter((err as Error).message);
  }
}

/** Applies a Data API write to the store; also used to replay writes made in another worker thread. */
export function applyWrite(ctx: ServerContext, write: DataWrite): void {
  try {
    if (write.op === 'put') ctx.engine.store.put(write.path, write.value);
    else if (write.op === 'patch') ctx.engine.store.patch(write.path, write.patch);
    else ctx.engine.store.delete(write.path);
  } catch (err) {
    if (err instanceof StoreError) throw storeFailed(err);
    throw err;
  }
}

/**
 * Applies a write and answers 204, or with ?metrics 200 and OPA's timers: the body read and parsed
 * (timer_rego_input_parse_ns, for writes with a body) and the whole handler (timer_server_handler_ns).
 */
async function written(ctx: ServerContext, req: IncomingMessage, res: ServerResponse, query: URLSearchParams, write: DataWrite, timing: { started: bigint; inputParsed?: bigint }): Promise<void> {
  applyWrite(ctx, write);
  await ctx.onDataWrite?.(write);
  if (!boolParam(query, 'metrics')) return sendEmpty(res, 204);
  const metrics: Record<string, number> = {};
  if (timing.inputParsed !== undefined) metrics.timer_rego_input_parse_ns = Number(timing.inputParsed - timing.started);
  metrics.timer_server_handler_ns = Number(process.hrtime.bigint() - timing.started);
  sendJson(req, res, 200, { metrics }, boolParam(query, 'pretty'), ctx.encoding);
}

/** PUT /v1/data/{path}: create or overwrite; If-None-Match: * makes it create-only (304 when present). */
export async function putData(ctx: ServerContext, req: IncomingMessage, res: ServerResponse, rawPath: string, query: URLSearchParams): Promise<void> {
  const started = process.hrtime.bigint();
  const path = pathSegments(rawPath);
  const value = await writeBody(ctx, req);
  const inputParsed = process.hrtime.bigint();
  try {
    ctx.engine.store.checkWritable(path);
  } catch (err) {
    if (err instanceof StoreError) throw storeFailed(err);
    throw err;
  }
  if (req.headers['if-none-match'] === '*' && ctx.engine.store.read(path) !== undefined) {
    sendEmpty(res, 304);
    return;
  }
  await written(ctx, req, res, query, { op: 'put', path, value }, { started, inputParsed });
}

/** PATCH /v1/data/{path}: a JSON Patch with add, remove and replace. */
export async function patchData(ctx: ServerContext, req: IncomingMessage, res: ServerResponse, rawPath: string, query: URLSearchParams): Promise<void> {
  const started = process.hrtime.bigint();
  const path = pathSegments(rawPath);
  const ops = await writeBody(ctx, req);
  const inputParsed = process.hrtime.bigint();
  await written(ctx, req, res, query, { op: 'patch', path, patch: patchOperations(ops) }, { started, inputParsed });
}

/**
 * The operations of a PATCH body as Go's encoding/json fills OPA's []PatchV1: a null body or operation is none
 * or an empty one, member names match in any case (the last match counts), and a wrong type is refused in its
 * words; then only add, remove and replace pass.
 */
function patchOperations(body: unknown): Extract<DataWrite, { op: 'patch' }>['patch'] {
  const refused = (message: string) => invalidParameter(`json: cannot unmarshal ${message}`);
  if (body === null) return [];
  if (!Array.isArray(body)) throw refused(`${goJsonKind(body)} into Go value of type []types.PatchV1`);
  return body.map((entry: unknown) => {
    if (entry !== null && !isObject(entry)) throw refused(`${goJsonKind(entry)} into Go value of type types.PatchV1`);
    const member = (name: string) => {
      const key = Object.keys(entry ?? {}).filter((k) => k.toLowerCase() === name).at(-1);
      return key === undefined ? undefined : (entry as Record<string, unknown>)[key];
    };
    const text = (name: 'op' | 'path') => {
      const v = member(name);
      if (v === undefined || v === null) return '';
      if (typeof v !== 'string') throw refused(`${goJsonKind(v)} into Go struct field PatchV1.${name} of type string`);
      return v;
    };
    const op = text('op');
    const path = text('path');
    if (op !== 'add' && op !== 'remove' && op !== 'replace') throw invalidParameter(`bad patch operation: ${op}`);
    return { op, path, value: member('value') };
  });
}

/** DELETE /v1/data/{path}. */
export async function deleteData(ctx: ServerContext, req: IncomingMessage, res: ServerResponse, rawPath: string, query: URLSearchParams): Promise<void> {
  const started = process.hrtime.bigint();
  await written(ctx, req, res, query, { op: 'delete', path: pathSegments(rawPath) }, { started });
}

