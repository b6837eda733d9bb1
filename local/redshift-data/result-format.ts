import { LosslessNumber } from 'lossless-json';

/**
 * The Data API's wire values: how PostgreSQL's text values and type OIDs become `Field`s,
 * `ColumnMetadata` and CSV records (both engines return the same text, so both produce the same
 * wire values), and how timestamps and optional members go into a response.
 */

/** A timestamp as the awsJson protocol sends it: seconds since the epoch. */
export const seconds = (milliseconds: number) => milliseconds / 1000;

/** Drops undefined members, so the response carries only what is known. */
export function compact<T extends Record<string, unknown>>(object: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(object).filter(([, value]) => value !== undefined),
  ) as Partial<T>;
}

/**
 * The Data API's `Field` union: exactly one member is set. `longValue` keeps the engine's digits:
 * the service writes an int8 as a JSON integer with every digit, and a JS number would round one
 * beyond 2^53 before it reached the wire (the response is written by lossless-json, see
 * GetStatementResult).
 */
export type Field =
  | { isNull: true }
  | { booleanValue: boolean }
  | { longValue: LosslessNumber }
  | { doubleValue: number }
  | { stringValue: string };

/** `ColumnMetadata` as it goes on the wire (camelCase members). */
export interface ColumnMetadata {
  isCaseSensitive: boolean;
  isCurrency: boolean;
  isSigned: boolean;
  label: string;
  name: string;
  nullable: number;
  precision: number;
  scale: number;
  schemaName: string;
  tableName: string;
  typeName: string;
  length: number;
  columnDefault?: string;
}

/** What the catalog says about a table column (the result's columns only carry OIDs). */
export interface CatalogColumn {
  schemaName: string;
  tableName: string;
  /** -1 when the type has no modifier (`varchar` without a length, `int4`, ...). */
  typeModifier: number;
  notNull: boolean;
  columnDefault?: string;
}

const OID = {
  bool: 16,
  bytea: 17,
  char: 18,
  name: 19,
  int8: 20,
  int2: 21,
  int4: 23,
  text: 25,
  oid: 26,
  json: 114,
  float4: 700,
  float8: 701,
  bpchar: 1042,
  varchar: 1043,
  date: 1082,
  time: 1083,
  timestamp: 1114,
  timestamptz: 1184,
  interval: 1186,
  timetz: 1266,
  numeric: 1700,
  jsonb: 3802,
} as const;

/** Redshift's names for the types; TEXT is VARCHAR there, JSON is SUPER, BYTEA is VARBYTE. */
const REDSHIFT_TYPE_NAMES = new Map<number, string>([
  [OID.bool, 'bool'],
  [OID.bytea, 'varbyte'],
  [OID.char, 'char'],
  [OID.name, 'name'],
  [OID.int8, 'int8'],
  [OID.int2, 'int2'],
  [OID.int4, 'int4'],
  [OID.text, 'varchar'],
  [OID.oid, 'oid'],
  [OID.json, 'super'],
  [OID.jsonb, 'super'],
  [OID.float4, 'float4'],
  [OID.float8, 'float8'],
  [OID.bpchar, 'bpchar'],
  [OID.varchar, 'varchar'],
  [OID.date, 'date'],
  [OID.time, 'time'],
  [OID.timestamp, 'timestamp'],
  [OID.timestamptz, 'timestamptz'],
  [OID.interval, 'interval'],
  [OID.timetz, 'timetz'],
  [OID.numeric, 'numeric'],
]);

/** Precision and scale of the types whose size is fixed, as Redshift's JDBC driver gives them. */
const FIXED_PRECISION = new Map<number, [number, number]>([
  [OID.bool, [1, 0]],
  [OID.int2, [5, 0]],
  [OID.int4, [10, 0]],
  [OID.int8, [19, 0]],
  [OID.oid, [10, 0]],
  [OID.float4, [8, 8]],
  [OID.float8, [17, 17]],
  [OID.date, [13, 0]],
  [OID.time, [15, 6]],
  [OID.timetz, [21, 6]],
  [OID.timestamp, [29, 6]],
  [OID.timestamptz, [35, 6]],
]);

const INTEGER_TYPES = new Set<number>([OID.int2, OID.int4, OID.int8]);
const FLOAT_TYPES = new Set<number>([OID.float4, OID.float8]);
const SIGNED_TYPES = new Set<number>([...INTEGER_TYPES, ...FLOAT_TYPES, OID.numeric]);
const CHARACTER_TYPES = new Set<number>([OID.char, OID.name, OID.text, OID.bpchar, OID.varchar]);

export function redshiftTypeName(typeOid: number): string {
  return REDSHIFT_TYPE_NAMES.get(typeOid) ?? 'varchar';
}

/** One value as a `Field`: integers as longs, floats as doubles, NUMERIC and the rest as text. */
export function fieldOf(value: string | null, typeOid: number): Field {
  if (value === null) return { isNull: true };
  if (typeOid === OID.bool) return { booleanValue: value === 't' };
  if (INTEGER_TYPES.has(typeOid)) return { longValue: new LosslessNumber(value) };
  if (FLOAT_TYPES.has(typeOid)) {
    const number = Number(value);
    // JSON has no NaN or Infinity; the text keeps them.
    return Number.isFinite(number) ? { doubleValue: number } : { stringValue: value };
  }
  return { stringValue: value };
}

/** Precision and scale from the type and its modifier (`numeric(8,2)`, `varchar(200)`). */
function precisionAndScale(typeOid: number, typeModifier: number): [number, number] {
  const fixed = FIXED_PRECISION.get(typeOid);
  if (fixed) return fixed;
  if (typeModifier < 0) return [0, 0];
  if (typeOid === OID.numeric) {
    // PostgreSQL packs numeric(p, s) as ((p << 16) | s) + 4.
    const packed = typeModifier - 4;
    return [(packed >> 16) & 0xffff, packed & 0xffff];
  }
  if (typeOid === OID.varchar || typeOid === OID.bpchar) return [typeModifier - 4, 0];
  return [0, 0];
}

export function columnMetadataOf(
  column: { name: string; typeOid: number },
  catalog: CatalogColumn | undefined,
): ColumnMetadata {
  const [precision, scale] = precisionAndScale(column.typeOid, catalog?.typeModifier ?? -1);
  const metadata: ColumnMetadata = {
    isCaseSensitive: CHARACTER_TYPES.has(column.typeOid),
    isCurrency: false,
    isSigned: SIGNED_TYPES.has(column.typeOid),
    label: column.name,
    name: column.name,
    // JDBC's convention: 0 no nulls, 1 nullable (computed values count as nullable).
    nullable: catalog?.notNull ? 0 : 1,
    precision,
    scale,
    schemaName: catalog?.schemaName ?? '',
    tableName: catalog?.tableName ?? '',
    typeName: redshiftTypeName(column.typeOid),
    length: 0,
  };
  if (catalog?.columnDefault !== undefined) metadata.columnDefault = catalog.columnDefault;
  return metadata;
}

/** Bytes of a result as the Data API counts `ResultSize`: here, the UTF-8 text of every value. */
export function resultSizeOf(rows: (string | null)[][]): number {
  let bytes = 0;
  for (const row of rows) for (const value of row) if (value !== null) bytes += utf8Length(value);
  return bytes;
}

function utf8Length(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/**
 * One CSV record per row (RFC 4180): NULL is an empty field, an empty string is `""`, and a
 * field with a comma, quote or line break is quoted.
 */
export function csvLine(values: (string | null)[]): string {
  return values
    .map((value) => {
      if (value === null) return '';
      if (value === '' || /[",\r\n]/.test(value)) return `"${value.replaceAll('"', '""')}"`;
      return value;
    })
    .join(',');
}
