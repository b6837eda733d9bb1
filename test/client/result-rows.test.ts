import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { GetObjectCommand, NoSuchKey, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  ResultExpiredError,
  ResultNotWrittenError,
  SpectraClientError,
} from '../../client/errors.ts';
import { ResultRows } from '../../client/result-rows.ts';
import type { QueryResult } from '../../functions/common/execution-output.ts';
import { resultManifest } from '../support/result-manifest.ts';

const s3 = mockClient(S3Client);
const ARN = 'arn:aws:states:us-east-1:000000000000:execution:spectra-query:run-1';
const EXPIRES = '2026-12-06T00:00:00.000Z';
const before = () => new Date('2026-12-05T23:59:59.000Z');

const rows = [
  [1, 'a'],
  [2, null],
  [3, '9223372036854775807'],
];
/** A GetObject body as the SDK gives one in Node: a readable stream. */
const body = (bytes: Buffer | string) => Readable.from([Buffer.from(bytes)]) as never;

/** Two gzip members, one per part, as FetchResults writes them. */
const data = Buffer.concat([
  gzipSync(`${JSON.stringify(rows[0])}\n${JSON.stringify(rows[1])}\n`),
  gzipSync(`${JSON.stringify(rows[2])}\n`),
]);
const manifest = resultManifest({
  columns: [
    { name: 'n', type: 'int8' },
    { name: 's', type: 'varchar' },
  ],
  rows: 3,
  bytes: data.length,
  uncompressedBytes: 40,
  data: 's3://spectra-results/results/m/run-1/st-1/rows.jsonl.gz',
  createdAt: '2026-11-29T10:00:00.000Z',
  expiresAt: EXPIRES,
});
const written: QueryResult = {
  tenantId: 'acme',
  statementId: 'st-1',
  sessionId: null,
  sessionReused: false,
  columns: manifest.columns,
  rows: rows.slice(0, 1),
  rowCount: 1,
  totalRows: 3,
  truncated: false,
  result: {
    location: 's3://spectra-results/results/m/run-1/st-1/manifest.json',
    format: 'JSONL_GZIP',
    parts: 2,
    rows: 3,
    bytes: data.length,
    expiresAt: EXPIRES,
  },
};

async function all(iterable: AsyncIterable<unknown>) {
  const seen: unknown[] = [];
  for await (const item of iterable) seen.push(item);
  return seen;
}

describe('Class: ResultRows', () => {
  beforeEach(() => {
    s3.reset();
    s3.on(GetObjectCommand, { Key: 'results/m/run-1/st-1/manifest.json' }).callsFake(() => ({
      Body: body(JSON.stringify(manifest)),
    }));
    s3.on(GetObjectCommand, { Key: 'results/m/run-1/st-1/rows.jsonl.gz' }).callsFake(() => ({
      Body: body(data),
    }));
  });

  it('iterates an inline result from the output, without S3', async () => {
    const reader = new ResultRows(new S3Client({}), before);
    const inline = reader.readable(ARN, { ...written, rows, rowCount: 3, result: undefined });
    expect(await all(inline)).toEqual(rows);
    expect(s3.calls()).toHaveLength(0);
    await expect(inline.presignedUrl()).rejects.toBeInstanceOf(ResultNotWrittenError);
  });

  it('iterates a written result from the bucket, every row of every part, in order', async () => {
    const reader = new ResultRows(new S3Client({}), before);
    const progress: number[] = [];
    const result = reader.readable(ARN, structuredClone(written));
    expect(await all(result.allRows({ onProgress: (p) => progress.push(p.rows) }))).toEqual(rows);
    expect(progress.at(-1)).toBe(3);
    // The methods are not in its JSON: the output's shape is unchanged.
    expect(JSON.parse(JSON.stringify(result))).toEqual(written);
  });

  it('refuses a result past its expiresAt before asking S3 for it', async () => {
    const reader = new ResultRows(new S3Client({}), () => new Date(EXPIRES));
    const result = reader.readable(ARN, structuredClone(written));
    await expect(all(result)).rejects.toBeInstanceOf(ResultExpiredError);
    expect(s3.calls()).toHaveLength(0);
  });

  it('reports a result the bucket no longer has as expired', async () => {
    s3.on(GetObjectCommand).rejects(new NoSuchKey({ message: 'gone', $metadata: {} }));
    const reader = new ResultRows(new S3Client({}), before);
    await expect(all(reader.readable(ARN, structuredClone(written)))).rejects.toMatchObject({
      name: 'ResultExpiredError',
      expiresAt: EXPIRES,
    });
  });

  it('reads each statement of a batch: one inline, one written, and the top level as the last', async () => {
    const reader = new ResultRows(new S3Client({}), before);
    const inlineSet = {
      ...written,
      rows: [[7, 'x']],
      rowCount: 1,
      totalRows: 1,
      result: undefined,
    };
    const batch = reader.readable(ARN, {
      ...structuredClone(written),
      statements: [
        {
          index: 0,
          statementId: 'st-1:1',
          status: 'FINISHED',
          hasResultSet: true,
          result: inlineSet,
        },
        {
          index: 1,
          statementId: 'st-1:2',
          status: 'FINISHED',
          hasResultSet: false,
          rowsAffected: 2,
        },
        {
          index: 2,
          statementId: 'st-1:3',
          status: 'FINISHED',
          hasResultSet: true,
          result: structuredClone(written),
        },
      ],
    });
    const [first, , last] = batch.statements ?? [];
    if (first?.result === undefined || last?.result === undefined)
      throw new Error('expected two result sets');
    expect(await all(first.result)).toEqual([[7, 'x']]);
    expect(await all(last.result)).toEqual(rows);
    expect(await all(batch)).toEqual(rows);
  });

  it("presigns the rows object for as long as asked, within SigV4's 7 days", async () => {
    const reader = new ResultRows(
      new S3Client({
        region: 'us-east-1',
        credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
      }),
      before,
    );
    const result = reader.readable(ARN, structuredClone(written));
    const url = new URL(await result.presignedUrl({ expiresInSeconds: 600 }));
    expect(url.pathname).toContain('results/m/run-1/st-1/rows.jsonl.gz');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('600');
    await expect(result.presignedUrl({ expiresInSeconds: 8 * 86_400 })).rejects.toBeInstanceOf(
      SpectraClientError,
    );
  });
});
