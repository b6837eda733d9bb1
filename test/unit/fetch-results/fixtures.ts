import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { GetStatementResultCommand, RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import { PutObjectCommand, S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach } from 'vitest';
import type { QueryResult } from '../../../functions/common/execution-output.ts';
import { runningState } from '../../support/query-state.ts';

/**
 * What the tests of FetchResults share: the mocked Data API and S3, a finished statement, the
 * pages the Data API serves, and what was written to the bucket.
 */

export const redshift = mockClient(RedshiftDataClient);
export const s3 = mockClient(S3Client);
export const columns = [
  { name: 'id', typeName: 'int8' },
  { name: 'name', typeName: 'varchar' },
];
export const finished = runningState({ status: 'FINISHED', hasResultSet: true });
export const PREFIX = 'results/spectra-query/run-1/st-1/';

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

export const linesOf = (gzip: Buffer) =>
  gunzipSync(gzip)
    .toString('utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as unknown[]);

/** `count` rows `[i, name]` on pages of `perPage`, every page telling the total. */
export function servePages(
  count: number,
  perPage: number,
  name: (i: number) => string = () => 'row',
) {
  const pages = Math.ceil(count / perPage);
  for (let page = 0; page < pages; page++) {
    const first = page * perPage;
    redshift
      .on(GetStatementResultCommand, {
        Id: 'st-1',
        NextToken: page === 0 ? undefined : `p${page}`,
      })
      .resolves({
        ColumnMetadata: columns,
        TotalNumRows: count,
        Records: Array.from({ length: Math.min(perPage, count - first) }, (_, i) => [
          { longValue: first + i },
          { stringValue: name(first + i) },
        ]),
        NextToken: page + 1 < pages ? `p${page + 1}` : undefined,
      });
  }
}

/** 96 characters that gzip barely shrinks, the same for the same `i`. */
export const incompressible = (i: number) =>
  [0, 1, 2, 3].map((k) => createHash('md5').update(`${i}:${k}`).digest('base64')).join('');

export const outputBytes = (result: QueryResult) => Buffer.byteLength(JSON.stringify(result));

/** Resets the mocks before each test of the calling file; S3 accepts every PutObject. */
export function useMockedClients(): void {
  beforeEach(() => {
    redshift.reset();
    s3.reset();
    s3.on(PutObjectCommand).resolves({});
  });
}
