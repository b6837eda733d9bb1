import { createCipheriv } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import {
  type ColumnMetadata,
  type Field,
  GetStatementResultCommand,
  ValidationException,
} from '@aws-sdk/client-redshift-data';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { QueryResult } from '../../../functions/common/execution-output.ts';
import { redshift, s3 } from '../../support/mocked-clients.ts';
import { runningState } from '../../support/query-state.ts';

/**
 * What the tests of FetchResults share: a finished statement, the pages the Data API serves, what
 * the results bucket answers, and what was written to it (the mocked clients are the steps' own,
 * from `test/support/mocked-clients.ts`).
 */

export const columns = [
  { name: 'id', typeName: 'int8' },
  { name: 'name', typeName: 'varchar' },
];
export const finished = runningState({ status: 'FINISHED', hasResultSet: true });
export const PREFIX = 'results/spectra-query/run-1/st-1/';

/** The results bucket takes multipart uploads: it opens `up-1`, takes every part, completes, aborts. */
export function bucketTakesMultipartUploads(): void {
  s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'up-1' });
  s3.on(UploadPartCommand).callsFake((input) => ({ ETag: `"${input.PartNumber}"` }));
  s3.on(CompleteMultipartUploadCommand).resolves({});
  s3.on(AbortMultipartUploadCommand).resolves({});
}

/**
 * The results bucket opens multipart uploads but refuses every part as S3 refuses under load
 * (SlowDown, 503), a transient failure; it takes the abort.
 */
export function bucketSlowsDownUploads(): void {
  s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'up-1' });
  s3.on(UploadPartCommand).rejects(
    new S3ServiceException({
      name: 'SlowDown',
      $fault: 'server',
      $metadata: { httpStatusCode: 503 },
    }),
  );
  s3.on(AbortMultipartUploadCommand).resolves({});
}

/** What the mocked S3 was sent, object by object. */
export function uploads(): Map<string, Buffer> {
  const objects = new Map<string, Buffer>();
  for (const call of s3.commandCalls(PutObjectCommand)) {
    const { Key, Body } = call.args[0].input;
    objects.set(Key as string, Buffer.from(Body as Uint8Array | string));
  }
  const parts = s3
    .commandCalls(UploadPartCommand)
    .map((call) => call.args[0].input)
    .sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0));
  if (parts.length > 0) {
    objects.set(
      parts[0]?.Key as string,
      Buffer.concat(parts.map((part) => Buffer.from(part.Body as Uint8Array))),
    );
  }
  return objects;
}

/** How many parts of a multipart upload the mocked S3 was sent. */
export const partsSent = () => s3.commandCalls(UploadPartCommand).length;

export const linesOf = (gzip: Buffer) =>
  gunzipSync(gzip)
    .toString('utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as unknown[]);

/**
 * GetStatementResult serves the statement's result as `pages` of records, read one after the
 * other by NextToken (`p1`, `p2`, ...), every page telling the total of rows.
 */
export function resultPages(columns: ColumnMetadata[], pages: Field[][][]): void {
  const totalRows = pages.reduce((rows, records) => rows + records.length, 0);
  pages.forEach((records, page) => {
    redshift
      .on(GetStatementResultCommand, {
        Id: 'st-1',
        NextToken: page === 0 ? undefined : `p${page}`,
      })
      .resolves({
        ColumnMetadata: columns,
        TotalNumRows: totalRows,
        Records: records,
        NextToken: page + 1 < pages.length ? `p${page + 1}` : undefined,
      });
  });
}

/** The read of the result's page after `nextToken` fails with `error`. */
export function resultPageFails(nextToken: string, error: Error): void {
  redshift.on(GetStatementResultCommand, { Id: 'st-1', NextToken: nextToken }).rejects(error);
}

/** GetStatementResult refuses the result as the Data API refuses one past its size limit. */
export function resultTooLarge(): void {
  redshift
    .on(GetStatementResultCommand)
    .rejects(
      new ValidationException({ message: 'Database response exceeded size limit', $metadata: {} }),
    );
}

/** The Data API's answer to a statement it no longer keeps. */
export const statementExpired = () =>
  new ValidationException({ message: 'Statement expired', $metadata: {} });

/** `count` rows `[i, name]` on pages of `perPage`, every page telling the total. */
export function servePages(
  count: number,
  perPage: number,
  name: (i: number) => string = () => 'row',
) {
  const pages = Array.from({ length: Math.ceil(count / perPage) }, (_, page) => {
    const first = page * perPage;
    return Array.from({ length: Math.min(perPage, count - first) }, (_, i) => [
      { longValue: first + i },
      { stringValue: name(first + i) },
    ]);
  });
  resultPages(columns, pages);
}

/**
 * Pseudo-random bytes, the same on every run: AES-CTR's key stream under a fixed key. 16,384 rows'
 * worth of text, so that a row repeats only some 1.6 MB of lines later, far outside the 32 KiB
 * window in which gzip finds repeats.
 */
const RANDOM_ROW_BYTES = 72;
const RANDOM_ROWS = 16_384;
const randomBytes = createCipheriv('aes-128-ctr', Buffer.alloc(16, 7), Buffer.alloc(16)).update(
  Buffer.alloc(RANDOM_ROW_BYTES * RANDOM_ROWS),
);

/** 96 characters that gzip barely shrinks, the same for the same `i`. */
export function incompressible(i: number): string {
  const start = (i % RANDOM_ROWS) * RANDOM_ROW_BYTES;
  return randomBytes.toString('base64', start, start + RANDOM_ROW_BYTES);
}

export const outputBytes = (result: QueryResult) => Buffer.byteLength(JSON.stringify(result));
