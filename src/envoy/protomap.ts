// Turns a decoded protobuf message into the JSON document a policy sees as input, the way
// opa-envoy-plugin does (envoyauth/protomap.go followed by OPA's InterfaceToValue):
//  - keys are the fields' JSON names (lowerCamel), and only populated fields appear;
//  - google.protobuf.Struct becomes its plain JSON object;
//  - every other message, Timestamp and Any included, becomes an object of its fields
//    (so a timestamp reads {"seconds": ..., "nanos": ...}, not an RFC 3339 string);
//  - 64-bit integers and enums become numbers, bytes become standard base64 strings.
import protobuf from 'protobufjs';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Fields = Record<string, unknown>;

const STRUCT = '.google.protobuf.Struct';
const has = (object: Fields, key: string): boolean => Object.prototype.hasOwnProperty.call(object, key);

export function messageToInput(type: protobuf.Type, message: Fields): Record<string, Json> {
  if (type.fullName === STRUCT) return structToJson(message);
  const out: Record<string, Json> = {};
  for (const field of type.fieldsArray) {
    const value = message[field.name];
    if (field.map) {
      const entries = Object.entries((value ?? {}) as Fields);
      if (entries.length === 0) continue;
      const map: Record<string, Json> = {};
      for (const [key, item] of entries) map[key] = fieldValue(field, item);
      out[field.name] = map;
    } else if (field.repeated) {
      const list = (value ?? []) as unknown[];
      if (list.length === 0) continue;
      out[field.name] = list.map((item) => fieldValue(field, item));
    } else if (isPopulated(field, message, value)) {
      out[field.name] = fieldValue(field, value);
    }
  }
  return out;
}

// proto3 presence: members of a oneof and message fields are populated when set;
// plain scalars only when they differ from their zero value.
function isPopulated(field: protobuf.Field, message: Fields, value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (field.partOf) return has(message, field.name);
  if (field.resolvedType instanceof protobuf.Type) return true;
  if (field.type === 'bytes') return (value as Uint8Array).length > 0; // the unset default is []
  if (isLong(value)) return value.low !== 0 || value.high !== 0;
  return value !== 0 && value !== '' && value !== false;
}

function fieldValue(field: protobuf.Field, value: unknown): Json {
  if (field.resolvedType instanceof protobuf.Type) return messageToInput(field.resolvedType, value as Fields);
  return scalarToJson(value);
}

function scalarToJson(value: unknown): Json {
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
  if (isLong(value)) return new protobuf.util.LongBits(value.low >>> 0, value.high >>> 0).toNumber(value.unsigned);
  return value as Json;
}

// 64-bit integers decode to Long objects when the long package is present.
interface LongLike {
  low: number;
  high: number;
  unsigned: boolean;
}

function isLong(value: unknown): value is LongLike {
  return typeof value === 'object' && value !== null && 'low' in value && 'high' in value;
}

function structToJson(struct: Fields): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const [key, value] of Object.entries((struct.fields ?? {}) as Record<string, Fields>)) out[key] = valueToJson(value);
  return out;
}

// Decoded messages carry defaults on their prototype, so the kind that was sent is the own property.
function valueToJson(value: Fields): Json {
  if (has(value, 'structValue')) return structToJson(value.structValue as Fields);
  if (has(value, 'listValue')) return (((value.listValue as Fields).values ?? []) as Fields[]).map(valueToJson);
  if (has(value, 'stringValue')) return value.stringValue as string;
  if (has(value, 'numberValue')) return value.numberValue as number;
  if (has(value, 'boolValue')) return value.boolValue as boolean;
  return null;
}

// The reverse direction, for CheckResponse.dynamic_metadata: a JSON object as a google.protobuf.Struct
// in the plain-object form protobufjs' fromObject expects.
export function jsonToStruct(object: Record<string, unknown>): { fields: Record<string, unknown> } {
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(object)) fields[key] = jsonToValue(value);
  return { fields };
}

function jsonToValue(value: unknown): Record<string, unknown> {
  if (value === null || value === undefined) return { nullValue: 0 };
  if (typeof value === 'boolean') return { boolValue: value };
  if (typeof value === 'number') return { numberValue: value };
  if (typeof value === 'string') return { stringValue: value };
  if (Array.isArray(value)) return { listValue: { values: value.map(jsonToValue) } };
  return { structValue: jsonToStruct(value as Record<string, unknown>) };
}
