import type { ColumnMetadata } from '@aws-sdk/client-redshift-data';
import { isLosslessNumber, parse as parseLossless } from 'lossless-json';
import type { WrittenResult } from './result-store.ts';

/**
 * A result's values as Spectra hands them on: JSON numbers only where a JS number holds the
 * value exactly; `numeric` values, and `int8` values beyond 2^53, are strings with every digit.
 */
export type ResultValue = string | number | boolean | null;
export type ResultRow = ResultValue[];

export interface ResultColumn {
  name: string;
  /** The Redshift type name (`int4`, `varchar`, `numeric`, `timestamp`, ...). */
  type: string;
}

export function toResultColumns(metadata: readonly ColumnMetadata[]): ResultColumn[] {
  return metadata.map((column, index) => ({
    name: column.name ?? column.label ?? `column${index + 1}`,
    type: column.typeName ?? 'unknown',
  }));
}

/**
 * One value of a GetStatementResult page as it was on the wire: the Data API's `Field` union,
 * with the numbers still in their JSON text (see {@link parseResultPage}).
 */
export interface WireField {
  isNull?: boolean;
  booleanValue?: boolean;
  /** The integer's digits exactly as the service sent them. */
  longValue?: string;
  doubleValue?: string;
  stringValue?: string;
  /** Base64, as the wire carries it. */
  blobValue?: string;
}

export interface WireResultPage {
  Records?: WireField[][];
  ColumnMetadata?: ColumnMetadata[];
  TotalNumRows?: number;
  NextToken?: string;
}

/** The members whose number text is kept as it came; every other number is a plain number. */
const EXACT_MEMBERS = new Set(['longValue', 'doubleValue']);

/**
 * Parses a GetStatementResult response body keeping every number's digits. The SDK reads
 * `longValue` into a JS number, which rounds int8 values beyond 2^53 (9007199254740993 becomes
 * ...992), and what it rounded cannot be recovered afterwards; so the page is read from the
 * response text itself. lossless-json does the parsing: JSON.parse has no way to see a number's
 * text on Node 20 (the reviver's `context.source` arrived with Node 22), and a hand-written JSON
 * reader is exactly what the library already is. A value's number stays the text it was here;
 * {@link toResultValue} decides, value by value, whether a JS number holds it.
 */
export function parseResultPage(text: string): WireResultPage {
  return parseLossless(text, (key, value) =>
    isLosslessNumber(value) ? (EXACT_MEMBERS.has(key) ? value.value : value.valueOf()) : value,
  ) as WireResultPage;
}

const isExactInteger = (digits: string) => {
  const value = Number(digits);
  return Number.isSafeInteger(value) && String(value) === digits.replace(/^(-?)0+(?=\d)/, '$1');
};

/**
 * Converts one value. Integers (`int2`, `int4`, `int8`) are JSON numbers when a JS number holds
 * them exactly, and strings of their digits when it does not; decimals arrive as strings and stay
 * strings; doubles are doubles on both sides; blobs stay base64.
 */
export function toResultValue(field: WireField): ResultValue {
  if (field.isNull) return null;
  if (field.stringValue !== undefined) return field.stringValue;
  if (field.booleanValue !== undefined) return field.booleanValue;
  if (field.longValue !== undefined) {
    const digits = String(field.longValue);
    return isExactInteger(digits) ? Number(digits) : digits;
  }
  if (field.doubleValue !== undefined) return Number(field.doubleValue);
  if (field.blobValue !== undefined) return field.blobValue;
  return null;
}

/** UTF-8 size of a value once serialised, which is what Step Functions counts. */
export function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value), 'utf8');
}

/**
 * The rows one statement returned: the top level of a query's output, and each row-returning
 * statement of a batch. One type, so that a result too large to keep inline is written to the
 * results bucket, and read back, the same way wherever it appears.
 */
export interface ResultSet {
  columns: ResultColumn[];
  /** Every row; when the result was written to the results bucket, the first rows (a preview). */
  rows: ResultRow[];
  /** Rows in `rows`. */
  rowCount: number;
  /** Rows the statement returned (rows affected, for a statement without a result set). */
  totalRows: number;
  /** true when the caller's `rowLimit` or `byteLimit` left rows out. */
  truncated: boolean;
  /** Set when the result was larger than the inline budget: where all its rows are. */
  result?: WrittenResult;
}

export const emptyResultSet = (): ResultSet => ({
  columns: [],
  rows: [],
  rowCount: 0,
  totalRows: 0,
  truncated: false,
});
