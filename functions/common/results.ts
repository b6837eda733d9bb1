import type { ColumnMetadata, Field } from '@aws-sdk/client-redshift-data';

/** A result value as JSON: numbers only where a JS number holds the value exactly. */
export type ResultValue = string | number | boolean | null;

export interface ResultColumn {
  name: string;
  /** The Redshift type name (`int4`, `varchar`, `numeric`, `timestamp`, ...). */
  type: string;
}

/** Column types whose values are returned as strings, since a JS number would round them. */
const EXACT_AS_STRING_TYPES = new Set(['numeric', 'decimal', 'int8', 'bigint']);

export function toResultColumns(metadata: ColumnMetadata[]): ResultColumn[] {
  return metadata.map((column, index) => ({
    name: column.name ?? column.label ?? `column${index + 1}`,
    type: column.typeName ?? 'unknown',
  }));
}

/**
 * Converts one Data API `Field` to a JSON value.
 *
 * int8 values arrive as JSON numbers; above 2^53 the SDK's JSON parser has already rounded them, so
 * they are returned as strings, keeping the digits the SDK still has and telling the caller that a
 * number would not be exact. Decimals arrive as strings and stay strings.
 */
export function toResultValue(field: Field, column: ResultColumn | undefined): ResultValue {
  if (field.isNull) return null;
  if (field.stringValue !== undefined) return field.stringValue;
  if (field.booleanValue !== undefined) return field.booleanValue;
  if (field.doubleValue !== undefined) return field.doubleValue;
  if (field.longValue !== undefined) {
    const exact = Number.isSafeInteger(field.longValue);
    const wantsString = column !== undefined && EXACT_AS_STRING_TYPES.has(column.type) && !exact;
    // BigInt prints the double's exact integer; String() would print a rounded shortest form.
    return wantsString ? BigInt(field.longValue).toString() : field.longValue;
  }
  if (field.blobValue !== undefined) return Buffer.from(field.blobValue).toString('base64');
  return null;
}

/** UTF-8 size of a value once serialised, which is what Step Functions counts. */
export function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value), 'utf8');
}

/**
 * The rows one statement returned, as far as the inline budget allows: the top level of a query's
 * output, and each row-returning statement of a batch. One type, so that a result too large to
 * keep inline can be stored elsewhere the same way wherever it appears.
 */
export interface ResultSet {
  columns: ResultColumn[];
  rows: ResultValue[][];
  /** Rows in `rows`. */
  rowCount: number;
  /** Rows the statement returned (rows affected, for a statement without a result set). */
  totalRows: number;
  /** true when `rows` stops short of `totalRows` to keep the output inside the byte budget. */
  truncated: boolean;
}

export const emptyResultSet = (): ResultSet => ({
  columns: [],
  rows: [],
  rowCount: 0,
  totalRows: 0,
  truncated: false,
});
