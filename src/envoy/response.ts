// Maps a policy decision to an ext_authz CheckResponse as opa-envoy-plugin does
// (envoyauth/response.go, internal/internal.go check()). The result is either a boolean or an object
// with a boolean "allowed" and optional fields; anything else is an error, which the gRPC layer
// reports as a failed call so Envoy applies its failure_mode_allow / status_on_error.
import { jsonToStruct } from './protomap.js';
import { StatusCode } from './proto.js';
import { isJsonObject as isObject } from '../json/kinds.js';
import { NumberText } from '../json/number-text.js';

// Status codes of the gRPC status model (google.rpc.Code) this layer uses.
export const GrpcCode = { OK: 0, UNKNOWN: 2, INVALID_ARGUMENT: 3, DEADLINE_EXCEEDED: 4, PERMISSION_DENIED: 7, UNAVAILABLE: 14 } as const;

export interface HeaderValueOption {
  header: { key: string; value: string };
}

// The CheckResponse in the plain-object form protobufjs encodes (camelCase field names).
export interface CheckResponseObject {
  status: { code?: number; message?: string };
  okResponse?: {
    headers?: HeaderValueOption[];
    headersToRemove?: string[];
    responseHeadersToAdd?: HeaderValueOption[];
    queryParametersToSet?: { key: string; value: string }[];
    queryParametersToRemove?: string[];
  };
  deniedResponse?: { status?: { code: number }; headers?: HeaderValueOption[]; body?: string };
  dynamicMetadata?: { fields: Record<string, unknown> };
}

// A decision that cannot be turned into a response; message texts follow opa-envoy-plugin's.
export class DecisionError extends Error {
  readonly code = 'envoyauth_result_error';
}

type Decision = boolean | Record<string, unknown>;

export function isAllowed(result: unknown): boolean {
  if (typeof result === 'boolean') return result;
  if (isObject(result)) {
    if (!('allowed' in result)) throw new DecisionError('failed to get response status: unable to determine evaluation result due to missing "allowed" key');
    if (typeof result.allowed !== 'boolean') {
      throw new DecisionError(`failed to get response status: type assertion error, expected allowed to be of type 'boolean' but got '${goType(result.allowed)}'`);
    }
    return result.allowed;
  }
  throw new DecisionError(`failed to get response status: illegal value for policy evaluation result: ${goType(result)}`);
}

export interface ResponseOptions {
  dryRun?: boolean;
}

export function toCheckResponse(result: unknown, decisionId: string, options: ResponseOptions = {}): CheckResponseObject {
  const allowed = isAllowed(result);
  // Zero values stay unset, as a Go encoder leaves them off the wire.
  const response: CheckResponseObject = { status: allowed ? {} : { code: GrpcCode.PERMISSION_DENIED } };
  if (isObject(result)) {
    const headers = headerOptions(decisionHeaders(result, 'headers'));
    const metadata = dynamicMetadata(result);
    if (metadata) response.dynamicMetadata = jsonToStruct(metadata);
    if (allowed) {
      response.okResponse = {
        headers,
        headersToRemove: stringList(result, 'request_headers_to_remove', 'request headers to remove'),
        responseHeadersToAdd: headerOptions(decisionHeaders(result, 'response_headers_to_add', 'response headers to send to client')),
        queryParametersToRemove: stringList(result, 'query_parameters_to_remove', 'request query parameters to remove'),
        queryParametersToSet: queryParametersToSet(result),
      };
    } else {
      const body = responseBody(result);
      response.deniedResponse = { headers, status: { code: deniedStatus(result) }, ...(body === '' ? {} : { body }) };
    }
  }
  if (options.dryRun && !allowed) {
    response.status = {};
    response.okResponse = {};
    delete response.deniedResponse;
  }
  response.dynamicMetadata ??= { fields: {} };
  response.dynamicMetadata.fields.decision_id = { stringValue: decisionId };
  return response;
}

export type HeaderPairs = [string, string][];

// "headers" and "response_headers_to_add": an object of string or string-array values, or an array
// of such objects. Pairs keep their order; a header named twice is sent twice.
export function decisionHeaders(decision: Decision, field: string, what = 'response headers'): HeaderPairs {
  if (typeof decision === 'boolean' || !(field in decision)) return [];
  const value = decision[field];
  const pairs: HeaderPairs = [];
  const fail = (detail: string): never => {
    throw new DecisionError(`failed to get ${what}: ${detail}`);
  };
  const addMap = (map: unknown): void => {
    if (!isObject(map)) fail(`type assertion error, expected headers to be of type 'object' but got '${goType(map)}'`);
    for (const [key, item] of Object.entries(map as Record<string, unknown>)) {
      if (typeof item === 'string') pairs.push([key, item]);
      else if (Array.isArray(item)) {
        for (const v of item) {
          if (typeof v !== 'string') fail(`invalid value type ${goType(v)} for header '${key}'`);
          pairs.push([key, v as string]);
        }
      } else fail(`type assertion error for header '${key}'`);
    }
  };
  if (Array.isArray(value)) value.forEach(addMap);
  else addMap(value);
  return pairs;
}

function headerOptions(pairs: HeaderPairs): HeaderValueOption[] {
  return pairs.map(([key, value]) => ({ header: { key, value } }));
}

function stringList(decision: Record<string, unknown>, field: string, what: string): string[] {
  if (!(field in decision)) return [];
  const value = decision[field];
  if (!Array.isArray(value)) {
    throw new DecisionError(`failed to get ${what}: type assertion error, expected ${field} to be of type '[]string' but got '${goType(value)}'`);
  }
  return value.map((item) => {
    if (typeof item !== 'string') {
      throw new DecisionError(`failed to get ${what}: type assertion error, expected ${field} value to be of type 'string' but got '${goType(item)}'`);
    }
    return item;
  });
}

function queryParametersToSet(decision: Record<string, unknown>): { key: string; value: string }[] {
  if (!('query_parameters_to_set' in decision)) return [];
  const params = decision.query_parameters_to_set;
  const fail = (detail: string): never => {
    throw new DecisionError(`failed to get request query parameters to set: ${detail}`);
  };
  if (!isObject(params)) fail(`type assertion error, expected query_parameters_to_set to be a map but got '${goType(params)}'`);
  const out: { key: string; value: string }[] = [];
  for (const [key, value] of Object.entries(params as Record<string, unknown>)) {
    if (typeof value === 'string') out.push({ key, value });
    else if (Array.isArray(value)) {
      for (const item of value) {
        if (typeof item !== 'string') fail(`type assertion error: expected array element to be string but got '${goType(item)}'`);
        out.push({ key, value: item as string });
      }
    } else fail(`type assertion error, expected value to be string or array but got '${goType(value)}'`);
  }
  return out;
}

function dynamicMetadata(decision: Record<string, unknown>): Record<string, unknown> | undefined {
  if (!('dynamic_metadata' in decision)) return undefined;
  const value = decision.dynamic_metadata;
  if (!isObject(value)) {
    throw new DecisionError(`failed to get dynamic metadata: type assertion error, expected dynamic_metadata to be of type 'object' but got '${goType(value)}'`);
  }
  return value;
}

export function responseBody(decision: Decision): string {
  if (typeof decision === 'boolean' || !('body' in decision)) return '';
  if (typeof decision.body !== 'string') {
    throw new DecisionError(`failed to get response body: type assertion error, expected body to be of type 'string' but got '${goType(decision.body)}'`);
  }
  return decision.body;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

// http_status of a denial: 403 unless the policy names another code Envoy's StatusCode enum knows.
export function deniedStatus(decision: Decision): number {
  if (typeof decision === 'boolean' || !('http_status' in decision)) return 403;
  const value = decision.http_status;
  if (typeof value !== 'number' && !(value instanceof NumberText)) {
    throw new DecisionError(`failed to get response http status: type assertion error, expected http_status to be of type 'number' but got '${goType(value)}'`);
  }
  // Any JSON number is a number here; it must then read as an int64, in strconv.ParseInt's words when it does not.
  const text = String(value);
  const parseError = !/^-?\d+$/.test(text) ? 'invalid syntax' : BigInt(text) < INT64_MIN || BigInt(text) > INT64_MAX ? 'value out of range' : undefined;
  if (parseError) throw new DecisionError(`failed to get response http status: error converting JSON number to int: strconv.ParseInt: parsing ${JSON.stringify(text)}: ${parseError}`);
  const status = Number(text);
  if (status === 0 || StatusCode.valuesById[status] === undefined) {
    throw new DecisionError(`failed to get response http status: invalid HTTP status code ${status}`);
  }
  return status;
}

// The Go type names opa-envoy-plugin's messages use for a JSON value.
function goType(value: unknown): string {
  if (value === null || value === undefined) return '<nil>';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number' || value instanceof NumberText) return 'json.Number';
  if (Array.isArray(value)) return '[]interface {}';
  return 'map[string]interface {}';
}
