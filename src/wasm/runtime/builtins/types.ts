// Type predicates and type_name.
import { T_NULL, T_BOOL, T_NUMBER, T_STRING, T_ARRAY, T_OBJECT, T_SET, tagOf, mkBool, mkString } from '../value';

export function b_is_number(v: i32): i32 { return mkBool(tagOf(v) == T_NUMBER); }
export function b_is_string(v: i32): i32 { return mkBool(tagOf(v) == T_STRING); }
export function b_is_boolean(v: i32): i32 { return mkBool(tagOf(v) == T_BOOL); }
export function b_is_array(v: i32): i32 { return mkBool(tagOf(v) == T_ARRAY); }
export function b_is_set(v: i32): i32 { return mkBool(tagOf(v) == T_SET); }
export function b_is_object(v: i32): i32 { return mkBool(tagOf(v) == T_OBJECT); }
export function b_is_null(v: i32): i32 { return mkBool(tagOf(v) == T_NULL); }

const NAMES: i32 = <i32>memory.data<u8>([
  0x6e,0x75,0x6c,0x6c, // null
  0x62,0x6f,0x6f,0x6c,0x65,0x61,0x6e, // boolean
  0x6e,0x75,0x6d,0x62,0x65,0x72, // number
  0x73,0x74,0x72,0x69,0x6e,0x67, // string
  0x61,0x72,0x72,0x61,0x79, // array
  0x6f,0x62,0x6a,0x65,0x63,0x74, // object
  0x73,0x65,0x74, // set
]);

export function b_type_name(v: i32): i32 {
  switch (tagOf(v)) {
    case T_NULL: return mkString(NAMES, 4);
    case T_BOOL: return mkString(NAMES + 4, 7);
    case T_NUMBER: return mkString(NAMES + 11, 6);
    case T_STRING: return mkString(NAMES + 17, 6);
    case T_ARRAY: return mkString(NAMES + 23, 5);
    case T_OBJECT: return mkString(NAMES + 28, 6);
    case T_SET: return mkString(NAMES + 34, 3);
    default: return 0;
  }
}
