// OPA's intermediate representation: exactly the JSON that `opa build -t plan` writes
// (OPA docs/docs/ir.md, v1/ir/ir.go). Plain data, no behaviour, so a plan parsed with
// JSON.parse is a Policy and a Policy serialises back to the same JSON.

/** Index of a plan-scoped variable; 0 is `input`, 1 is `data`. */
export type Local = number;

export type Operand =
  | { type: 'local'; value: Local }
  | { type: 'bool'; value: boolean }
  | { type: 'string_index'; value: number };

/** Source location carried by every statement (file is an index into static.files). */
export interface Location {
  file?: number;
  row?: number;
  col?: number;
  end_row?: number;
  end_col?: number;
}

export interface Block {
  stmts: Stmt[];
}

export interface StmtBodies {
  ArrayAppendStmt: { array: Local; value: Operand };
  AssignIntStmt: { value: number; target: Local };
  AssignVarOnceStmt: { source: Operand; target: Local };
  AssignVarStmt: { source: Operand; target: Local };
  BlockStmt: { blocks: Block[] | null };
  BreakStmt: { index: number };
  CallDynamicStmt: { path: Operand[]; args: Local[]; result: Local };
  CallStmt: { func: string; args: Operand[] | null; result: Local };
  DotStmt: { source: Operand; key: Operand; target: Local };
  EqualStmt: { a: Operand; b: Operand };
  IsArrayStmt: { source: Operand };
  IsDefinedStmt: { source: Local };
  IsObjectStmt: { source: Operand };
  IsSetStmt: { source: Operand };
  IsUndefinedStmt: { source: Local };
  LenStmt: { source: Operand; target: Local };
  MakeArrayStmt: { capacity: number; target: Local };
  MakeNullStmt: { target: Local };
  MakeNumberIntStmt: { value: number; target: Local };
  /** `Index` is the deprecated spelling OPA still writes next to `index`. */
  MakeNumberRefStmt: { index: number; Index?: number; target: Local };
  MakeObjectStmt: { target: Local };
  MakeSetStmt: { target: Local };
  NopStmt: Record<string, never>;
  NotEqualStmt: { a: Operand; b: Operand };
  NotStmt: { block: Block };
  ObjectInsertOnceStmt: { key: Operand; value: Operand; object: Local };
  ObjectInsertStmt: { key: Operand; value: Operand; object: Local };
  ObjectMergeStmt: { a: Local; b: Local; target: Local };
  ResetLocalStmt: { target: Local };
  ResultSetAddStmt: { value: Local };
  ReturnLocalStmt: { source: Local };
  ScanStmt: { source: Local; key: Local; value: Local; block: Block };
  SetAddStmt: { value: Operand; set: Local };
  WithStmt: { local: Local; path: number[] | null; value: Operand; block: Block };
}

export type StmtType = keyof StmtBodies;

/** A statement as it appears in a block: `{type, stmt}` with the location inside `stmt`. */
export type Stmt = { [K in StmtType]: { type: K; stmt: StmtBodies[K] & Location } }[StmtType];

export type StmtOf<K extends StmtType> = Extract<Stmt, { type: K }>;

/** OPA's type declaration of a builtin (types.Function JSON); only the name matters to the back end. */
export interface BuiltinFunc {
  name: string;
  decl: { type: 'function'; args?: unknown[]; result?: unknown; variadic?: unknown; [k: string]: unknown };
}

export interface StringConst {
  value: string;
}

export interface Static {
  strings?: StringConst[];
  builtin_funcs?: BuiltinFunc[];
  files?: StringConst[];
}

export interface Plan {
  name: string;
  blocks: Block[];
}

export interface Func {
  name: string;
  params: Local[];
  return: Local;
  blocks: Block[];
  path?: string[];
}

export interface UnplannedRule {
  path: string;
  location: Location | null;
}

export interface Policy {
  static?: Static;
  plans?: { plans: Plan[] | null };
  funcs?: { funcs: Func[] | null };
  unplanned_rules?: UnplannedRule[];
}
