import type { ResultColumn } from './results.ts';

/**
 * How a result larger than the inline budget is kept in the results bucket: where its objects
 * are, what the manifest says, and when the bucket's lifecycle deletes them. The writer
 * (functions/common/result-spill.ts), the client that reads it back (client/result-rows.ts) and
 * the CDK stack's lifecycle rule all follow what is written here.
 *
 * The format, `JSONL_GZIP`:
 * - `rows.jsonl.gz`: one JSON array per line, a row's values in column order, typed as the
 *   inline `rows` are (numbers where exact, strings where a JSON number would lose digits, `null`
 *   for NULL). Arrays rather than objects, because a result may repeat a column name and because
 *   a line is then exactly an element of the inline `rows`.
 * - The object is a series of gzip members, one per part: `zcat`, `gunzip -c`, Python's gzip,
 *   Node's zlib and every other gzip reader read it whole as one stream (RFC 1952 §2.2), and each
 *   part, a byte range listed in the manifest, is a complete gzip file of whole lines on its own,
 *   so that a reader can fetch the parts in parallel with range requests.
 * - `manifest.json`: the columns, the row and byte counts, and the parts.
 *
 * Why not Parquet: a Parquet file is readable only once its footer is written, so neither writer
 * nor reader could stream it, and the JavaScript writers are either unmaintained or large; gzip
 * JSON Lines streams both ways and every tool reads it (`zcat | jq`, DuckDB's `read_json`, pandas).
 */

/** Everything FetchResults writes is under this prefix, and its IAM policy allows nothing else. */
export const RESULTS_PREFIX = 'results/';

export const RESULT_FORMAT = 'JSONL_GZIP';

export const MANIFEST_FILE = 'manifest.json';
export const ROWS_FILE = 'rows.jsonl.gz';

const DAY_MS = 86_400_000;

/** One part of a written result: a gzip member of whole lines, and the rows it holds. */
export interface ResultPart {
  /** Byte offset of the member in the rows object. */
  offset: number;
  /** Its compressed bytes. */
  bytes: number;
  /** The index, in the whole result, of its first row. */
  rowOffset: number;
  rows: number;
}

/** `manifest.json`. */
export interface ResultManifest {
  format: typeof RESULT_FORMAT;
  statementId: string;
  columns: ResultColumn[];
  /** Rows in the result, over all parts. */
  rows: number;
  /** Size of the rows object (the sum of the parts' bytes). */
  bytes: number;
  /** Size of the JSON Lines once uncompressed. */
  uncompressedBytes: number;
  /** The rows object, `s3://<bucket>/<key>`. */
  data: string;
  parts: ResultPart[];
  createdAt: string;
  expiresAt: string;
}

/** What the execution output says of a written result: `result` in the output. */
export interface WrittenResult {
  /** The manifest, `s3://<bucket>/<key>`. */
  location: string;
  format: typeof RESULT_FORMAT;
  /** Parts in the manifest. */
  parts: number;
  rows: number;
  /** Size of the rows object. */
  bytes: number;
  /** When the bucket's lifecycle deletes the result (ISO 8601). */
  expiresAt: string;
}

/**
 * The key prefix of one statement's result: `results/<state machine>/<execution>/<statement>/`.
 * It is the same for every attempt of the same execution, so that a retried or redriven
 * FetchResults writes over what an earlier attempt left, never beside it.
 */
export function resultKeyPrefix(executionArn: string, statementId: string): string {
  // arn:aws:states:<region>:<account>:execution:<state machine>:<execution name>
  const [stateMachine = 'unknown', execution = 'unknown'] = executionArn.split(':').slice(6, 8);
  return `${RESULTS_PREFIX}${stateMachine}/${execution}/${statementId}/`;
}

export const s3Uri = (bucket: string, key: string) => `s3://${bucket}/${key}`;

/** The bucket and key of an `s3://bucket/key` URI, or undefined when it is not one. */
export function parseS3Uri(uri: string): { bucket: string; key: string } | undefined {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  return match ? { bucket: match[1] as string, key: match[2] as string } : undefined;
}

/**
 * When S3's lifecycle expires an object created at `createdAt` under a rule of `days` days: the
 * creation time plus the days, rounded up to the next midnight UTC, as S3 counts it
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/lifecycle-expire-general-considerations.html).
 * S3 deletes it at that time or some time after; a result is treated as gone from then on.
 */
export function resultExpiresAt(createdAt: Date, days: number): Date {
  return new Date(Math.ceil((createdAt.getTime() + days * DAY_MS) / DAY_MS) * DAY_MS);
}
