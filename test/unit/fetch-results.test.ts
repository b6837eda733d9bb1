import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import {
  DescribeStatementCommand,
  GetStatementResultCommand,
  RedshiftDataClient,
  ValidationException,
} from '@aws-sdk/client-redshift-data';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ResultManifest } from '../../functions/common/result-store.ts';
import type { QueryState } from '../../functions/common/schemas.ts';
import { fetchResults, type QueryResult } from '../../functions/fetch-results.ts';
import { runningState } from '../support/query-state.ts';
import { NOW, unitDeps } from '../support/unit-deps.ts';

const redshift = mockClient(RedshiftDataClient);
const s3 = mockClient(S3Client);
const columns = [
  { name: 'id', typeName: 'int8' },
  { name: 'name', typeName: 'varchar' },
];
const finished = runningState({ status: 'FINISHED', hasResultSet: true });
const PREFIX = 'results/spectra-query/run-1/st-1/';

/** What the mocked S3 was sent, object by object. */
function uploads(): Map<string, Buffer> {
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

const linesOf = (gzip: Buffer) =>
  gunzipSync(gzip)
    .toString('utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as unknown[]);

/** `count` rows `[i, name]` on pages of `perPage`, every page telling the total. */
function servePages(count: number, perPage: number, name: (i: number) => string = () => 'row') {
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
const incompressible = (i: number) =>
  [0, 1, 2, 3].map((k) => createHash('md5').update(`${i}:${k}`).digest('base64')).join('');

const outputBytes = (result: QueryResult) => Buffer.byteLength(JSON.stringify(result));

describe('Function: fetchResults', () => {
  beforeEach(() => {
    redshift.reset();
    s3.reset();
    s3.on(PutObjectCommand).resolves({});
  });

  it('reads every page by NextToken and returns typed rows', async () => {
    // Prepare
    const { deps } = unitDeps();
    redshift
      .on(GetStatementResultCommand, { Id: 'st-1', NextToken: undefined })
      .resolves({
        ColumnMetadata: columns,
        TotalNumRows: 3,
        Records: [[{ longValue: 1 }, { stringValue: 'a' }]],
        NextToken: 'p2',
      })
      .on(GetStatementResultCommand, { Id: 'st-1', NextToken: 'p2' })
      .resolves({
        ColumnMetadata: columns,
        TotalNumRows: 3,
        Records: [[{ longValue: 2 }, { isNull: true }]],
        NextToken: 'p3',
      })
      .on(GetStatementResultCommand, { Id: 'st-1', NextToken: 'p3' })
      .resolves({
        ColumnMetadata: columns,
        TotalNumRows: 3,
        Records: [[{ longValue: 3 }, { stringValue: 'c' }]],
      });

    // Act
    const result = await fetchResults(finished, deps);

    // Assess
    expect(result).toEqual({
      tenantId: 'acme',
      statementId: 'st-1',
      sessionId: 'sess-1',
      sessionReused: true,
      columns: [
        { name: 'id', type: 'int8' },
        { name: 'name', type: 'varchar' },
      ],
      rows: [
        [1, 'a'],
        [2, null],
        [3, 'c'],
      ],
      rowCount: 3,
      totalRows: 3,
      truncated: false,
    });
    expect(redshift).toReceiveCommandTimes(GetStatementResultCommand, 3);
    expect(s3.calls()).toHaveLength(0);
  });

  it('keeps a result just under the inline budget inline, and writes one just over it to S3', async () => {
    // Prepare: find the row count whose inline output is the largest within the budget
    const budget = 20_000;
    const { deps } = unitDeps({ SPECTRA_RESULT_INLINE_MAX_BYTES: String(budget) });
    let fits = 0;
    for (let count = 1; ; count++) {
      redshift.reset();
      s3.reset();
      s3.on(PutObjectCommand).resolves({});
      servePages(count, 1000, () => 'n'.repeat(50));
      const result = await fetchResults(finished, deps);
      if (result.result !== undefined) break;
      fits = count;
    }

    // Act
    redshift.reset();
    s3.reset();
    s3.on(PutObjectCommand).resolves({});
    servePages(fits, 1000, () => 'n'.repeat(50));
    const under = await fetchResults(finished, deps);
    redshift.reset();
    servePages(fits + 1, 1000, () => 'n'.repeat(50));
    const over = await fetchResults(finished, deps);

    // Assess: under the budget every row is inline and within it, with nothing written
    expect(under.result).toBeUndefined();
    expect(under.rowCount).toBe(fits);
    expect(outputBytes(under)).toBeLessThanOrEqual(budget);
    // Over it, the rows are in S3, the output has a preview and says where the rest is
    expect(over.result).toEqual({
      location: `s3://spectra-results/${PREFIX}manifest.json`,
      format: 'JSONL_GZIP',
      parts: 1,
      rows: fits + 1,
      bytes: uploads().get(`${PREFIX}rows.jsonl.gz`)?.length,
      expiresAt: '2026-12-06T00:00:00.000Z',
    });
    expect(over.truncated).toBe(false);
    expect(over.totalRows).toBe(fits + 1);
    expect(over.rows).toEqual(Array.from({ length: over.rowCount }, (_, i) => [i, 'n'.repeat(50)]));
    expect(over.rowCount).toBeGreaterThan(0);
    expect(outputBytes(over)).toBeLessThanOrEqual(budget);
    const rows = linesOf(uploads().get(`${PREFIX}rows.jsonl.gz`) as Buffer);
    expect(rows).toEqual(Array.from({ length: fits + 1 }, (_, i) => [i, 'n'.repeat(50)]));
  });

  it('writes a large result in parts that each gunzip on their own, and a manifest that lists them', async () => {
    // Prepare: ~45 bytes a line, parts of 64 KiB: about 1,450 lines a part
    const { deps } = unitDeps({ SPECTRA_RESULT_PART_BYTES: '65536' });
    const md5ish = (i: number) => i.toString(16).padStart(32, '0');
    servePages(10_000, 1000, md5ish);

    // Act
    const result = await fetchResults(finished, deps);

    // Assess
    const objects = uploads();
    const data = objects.get(`${PREFIX}rows.jsonl.gz`) as Buffer;
    const manifest = JSON.parse(
      (objects.get(`${PREFIX}manifest.json`) as Buffer).toString('utf8'),
    ) as ResultManifest;
    expect(manifest).toEqual(
      expect.objectContaining({
        format: 'JSONL_GZIP',
        statementId: 'st-1',
        columns: [
          { name: 'id', type: 'int8' },
          { name: 'name', type: 'varchar' },
        ],
        rows: 10_000,
        bytes: data.length,
        data: `s3://spectra-results/${PREFIX}rows.jsonl.gz`,
        createdAt: NOW.toISOString(),
        expiresAt: '2026-12-06T00:00:00.000Z',
      }),
    );
    expect(result.result?.parts).toBe(manifest.parts.length);
    expect(manifest.parts.length).toBeGreaterThanOrEqual(6);
    let next = 0;
    for (const part of manifest.parts) {
      expect(part.rowOffset).toBe(next);
      const rows = linesOf(data.subarray(part.offset, part.offset + part.bytes));
      expect(rows).toEqual(
        Array.from({ length: part.rows }, (_, i) => [next + i, md5ish(next + i)]),
      );
      next += part.rows;
    }
    expect(next).toBe(10_000);
    // And the object read whole is the result, in order
    expect(linesOf(data)).toHaveLength(10_000);
  });

  it('streams a result larger than an upload part through a multipart upload', async () => {
    // Prepare: about 16 MB of JSON Lines that gzip barely shrinks: more than one 8 MiB upload part
    const { deps } = unitDeps();
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'up-1' });
    s3.on(UploadPartCommand).callsFake((input) => ({ ETag: `"${input.PartNumber}"` }));
    s3.on(CompleteMultipartUploadCommand).resolves({});
    servePages(150_000, 10_000, incompressible);

    // Act
    const result = await fetchResults(finished, deps);

    // Assess
    expect(s3.commandCalls(UploadPartCommand).length).toBeGreaterThanOrEqual(2);
    const rows = linesOf(uploads().get(`${PREFIX}rows.jsonl.gz`) as Buffer);
    expect(rows).toHaveLength(150_000);
    expect(rows[149_999]).toEqual([149_999, incompressible(149_999)]);
    expect(result.result?.rows).toBe(150_000);
  });

  it('stops at rowLimit, marking the result truncated only when rows were left out', async () => {
    const { deps } = unitDeps();
    servePages(25, 10);

    const cut = await fetchResults(
      runningState(finished.statement, { query: { ...finished.query, rowLimit: 12 } }),
      deps,
    );
    expect(cut.rows.map((row) => row[0])).toEqual(Array.from({ length: 12 }, (_, i) => i));
    expect(cut.truncated).toBe(true);
    expect(cut.totalRows).toBe(25);
    // The limit ended the result within the second page: the third was never read.
    expect(redshift).toReceiveCommandTimes(GetStatementResultCommand, 2);

    redshift.reset();
    servePages(25, 10);
    const exact = await fetchResults(
      runningState(finished.statement, { query: { ...finished.query, rowLimit: 25 } }),
      deps,
    );
    expect(exact.rowCount).toBe(25);
    expect(exact.truncated).toBe(false);
  });

  it('stops before the row that would take the JSON Lines past byteLimit', async () => {
    const { deps } = unitDeps();
    servePages(100, 50);
    // Each line is `[i,"row"]\n`: 10 bytes for i < 10, 11 up to 99.
    const limit = 10 * 10 + 11 * 5 + 3;

    const cut = await fetchResults(
      runningState(finished.statement, { query: { ...finished.query, byteLimit: limit } }),
      deps,
    );

    expect(cut.rowCount).toBe(15);
    expect(cut.truncated).toBe(true);
    expect(redshift).toReceiveCommandTimes(GetStatementResultCommand, 1);
  });

  it('applies the limits to a written result too: every row up to the limit is in S3', async () => {
    const { deps } = unitDeps({ SPECTRA_RESULT_INLINE_MAX_BYTES: '2048' });
    servePages(5000, 1000);

    const result = await fetchResults(
      runningState(finished.statement, { query: { ...finished.query, rowLimit: 3000 } }),
      deps,
    );

    expect(result.truncated).toBe(true);
    expect(result.result?.rows).toBe(3000);
    expect(linesOf(uploads().get(`${PREFIX}rows.jsonl.gz`) as Buffer)).toHaveLength(3000);
    expect(redshift).toReceiveCommandTimes(GetStatementResultCommand, 3);
  });

  it('keeps the output under 256 KiB at the largest budget, whatever the query returns', async () => {
    const { deps } = unitDeps({ SPECTRA_RESULT_INLINE_MAX_BYTES: '250000' });
    const records = Array.from({ length: 2000 }, () => [
      { longValue: 1 },
      { stringValue: 'é'.repeat(400) },
    ]);
    redshift
      .on(GetStatementResultCommand)
      .resolves({ ColumnMetadata: columns, TotalNumRows: 2000, Records: records });

    const result = await fetchResults(finished, deps);

    expect(result.result?.rows).toBe(2000);
    expect(result.truncated).toBe(false);
    expect(outputBytes(result)).toBeLessThanOrEqual(250_000);
  });

  it('returns int8 values beyond 2^53 and decimals as strings, so no digits are invented', async () => {
    const { deps } = unitDeps();
    redshift.on(GetStatementResultCommand).resolves({
      ColumnMetadata: [
        { name: 'big', typeName: 'int8' },
        { name: 'small', typeName: 'int8' },
        { name: 'price', typeName: 'numeric' },
        { name: 'ratio', typeName: 'float8' },
        { name: 'ok', typeName: 'bool' },
      ],
      TotalNumRows: 1,
      Records: [
        [
          { longValue: 2 ** 60 },
          { longValue: 42 },
          { stringValue: '12345678901234567890.12' },
          { doubleValue: 0.5 },
          { booleanValue: true },
        ],
      ],
    });

    const result = await fetchResults(finished, deps);

    expect(result.rows).toEqual([
      ['1152921504606846976', 42, '12345678901234567890.12', 0.5, true],
    ]);
  });

  it('fails with ResultTooLargeError, pointing to UNLOAD, when the Data API refuses the result for its size', async () => {
    const { deps } = unitDeps();
    redshift.on(GetStatementResultCommand).rejects(
      new ValidationException({
        message: 'Database response exceeded size limit',
        $metadata: {},
      }),
    );

    await expect(fetchResults(finished, deps)).rejects.toMatchObject({
      name: 'ResultTooLargeError',
      message: expect.stringContaining('UNLOAD'),
      details: { statementId: 'st-1' },
    });
  });

  it('aborts the upload and fails as transient when S3 keeps failing, so that the step is retried', async () => {
    const { deps } = unitDeps();
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'up-1' });
    s3.on(UploadPartCommand).rejects(
      new S3ServiceException({
        name: 'SlowDown',
        $fault: 'server',
        $metadata: { httpStatusCode: 503 },
      }),
    );
    s3.on(AbortMultipartUploadCommand).resolves({});
    servePages(150_000, 10_000, incompressible);

    await expect(fetchResults(finished, deps)).rejects.toMatchObject({
      name: 'TransientServiceError',
    });
    expect(s3).toReceiveCommand(AbortMultipartUploadCommand);
    expect(s3).not.toReceiveCommandWith(PutObjectCommand, { Key: `${PREFIX}manifest.json` });
  });

  describe('of a batch', () => {
    const BATCH_PREFIX = 'results/spectra-query/run-1/b-1:';
    const batchState = (query: Partial<QueryState['query']> = {}) =>
      runningState(
        { statementId: 'b-1', status: 'FINISHED' },
        { query: { ...finished.query, batchSize: 3, ...query } },
      );
    /** Sub-statement `b-1:<n>` returns `count` rows `[i]`, on pages of 1,000. */
    function serveSet(n: number, count: number) {
      const pages = Math.max(1, Math.ceil(count / 1000));
      for (let page = 0; page < pages; page++) {
        redshift
          .on(GetStatementResultCommand, {
            Id: `b-1:${n}`,
            NextToken: page === 0 ? undefined : `p${page}`,
          })
          .resolves({
            ColumnMetadata: [{ name: `n${n}`, typeName: 'int4' }],
            TotalNumRows: count,
            Records: Array.from({ length: Math.min(1000, count - page * 1000) }, (_, i) => [
              { longValue: 100_000 + page * 1000 + i },
            ]),
            NextToken: page + 1 < pages ? `p${page + 1}` : undefined,
          });
      }
    }
    const expectedRows = (count: number) => Array.from({ length: count }, (_, i) => [100_000 + i]);

    beforeEach(() => {
      redshift.on(DescribeStatementCommand).resolves({
        Id: 'b-1',
        Status: 'FINISHED',
        SubStatements: [
          { Id: 'b-1:1', Status: 'FINISHED', HasResultSet: true },
          { Id: 'b-1:2', Status: 'FINISHED', HasResultSet: false, ResultRows: 4 },
          { Id: 'b-1:3', Status: 'FINISHED', HasResultSet: true },
        ],
      });
    });

    it('keeps the whole output within the inline budget, writing each result set that does not fit to the bucket', async () => {
      // Prepare: two result sets of 2,000 rows (about 16 KB each) against a 20,000-byte budget
      const { deps } = unitDeps({ SPECTRA_RESULT_INLINE_MAX_BYTES: '20000' });
      serveSet(1, 2000);
      serveSet(3, 2000);

      // Act
      const result = await fetchResults(batchState(), deps);

      // Assess: within the budget, nothing cut, and every row of both sets in the bucket
      expect(outputBytes(result)).toBeLessThanOrEqual(20_000);
      const [first, , last] = result.statements ?? [];
      expect(first?.result?.result?.location).toBe(
        `s3://spectra-results/${BATCH_PREFIX}1/manifest.json`,
      );
      expect(last?.result?.result?.location).toBe(
        `s3://spectra-results/${BATCH_PREFIX}3/manifest.json`,
      );
      const objects = uploads();
      for (const n of [1, 3]) {
        expect(linesOf(objects.get(`${BATCH_PREFIX}${n}/rows.jsonl.gz`) as Buffer)).toEqual(
          expectedRows(2000),
        );
      }
      // The top level is the last set: the same preview and the same written result
      expect(result.result).toEqual(last?.result?.result);
      expect(result.rows).toEqual(last?.result?.rows);
      expect(result.rows).toEqual(expectedRows(result.rowCount));
      expect(result.rowCount).toBeGreaterThan(0);
      expect([result.truncated, first?.result?.truncated]).toEqual([false, false]);
      expect(result.totalRows).toBe(2000);
    });

    it('keeps a small result set inline beside a large one that is written', async () => {
      // Prepare
      const { deps } = unitDeps();
      serveSet(1, 3);
      serveSet(3, 50_000);

      // Act
      const result = await fetchResults(batchState(), deps);

      // Assess
      expect(result.statements?.[0]?.result).toEqual({
        columns: [{ name: 'n1', type: 'int4' }],
        rows: expectedRows(3),
        rowCount: 3,
        totalRows: 3,
        truncated: false,
      });
      expect(result.statements?.[1]).toMatchObject({ hasResultSet: false, rowsAffected: 4 });
      expect(result.result?.rows).toBe(50_000);
      expect(linesOf(uploads().get(`${BATCH_PREFIX}3/rows.jsonl.gz`) as Buffer)).toEqual(
        expectedRows(50_000),
      );
      expect(uploads().has(`${BATCH_PREFIX}1/rows.jsonl.gz`)).toBe(false);
      expect(outputBytes(result)).toBeLessThanOrEqual(200_000);
    });

    it('applies rowLimit to each result set', async () => {
      // Prepare
      const { deps } = unitDeps();
      serveSet(1, 10);
      serveSet(3, 3);

      // Act
      const result = await fetchResults(batchState({ rowLimit: 5 }), deps);

      // Assess
      expect(result.statements?.[0]?.result).toMatchObject({
        rows: expectedRows(5),
        totalRows: 10,
        truncated: true,
      });
      expect(result).toMatchObject({ rows: expectedRows(3), totalRows: 3, truncated: false });
    });
  });

  it('fails with the error of a page read ahead while the one before it is written, and aborts the upload', async () => {
    // Prepare: a result written from its first page; the third page's read fails while the
    // second page goes through gzip.
    const { deps } = unitDeps({ SPECTRA_RESULT_INLINE_MAX_BYTES: '2048' });
    servePages(2000, 1000, incompressible);
    redshift
      .on(GetStatementResultCommand, { Id: 'st-1', NextToken: 'p1' })
      .resolves({
        ColumnMetadata: columns,
        TotalNumRows: 3000,
        Records: Array.from({ length: 1000 }, (_, i) => [
          { longValue: 1000 + i },
          { stringValue: incompressible(1000 + i) },
        ]),
        NextToken: 'p2',
      })
      .on(GetStatementResultCommand, { Id: 'st-1', NextToken: 'p2' })
      .rejects(new ValidationException({ message: 'Statement expired', $metadata: {} }));
    s3.on(AbortMultipartUploadCommand).resolves({});

    // Act
    const failure = fetchResults(finished, deps);

    // Assess
    await expect(failure).rejects.toMatchObject({ name: 'ValidationException' });
    expect(s3).not.toReceiveCommandWith(PutObjectCommand, { Key: `${PREFIX}manifest.json` });
  });

  it('reports the rows affected for a statement without a result set', async () => {
    const { deps } = unitDeps();
    redshift
      .on(DescribeStatementCommand)
      .resolves({ Id: 'st-1', Status: 'FINISHED', HasResultSet: false, ResultRows: 7 });

    const result = await fetchResults(runningState({ status: 'FINISHED' }), deps);

    expect(result).toEqual(
      expect.objectContaining({
        columns: [],
        rows: [],
        rowCount: 0,
        totalRows: 7,
        truncated: false,
      }),
    );
    expect(redshift).not.toReceiveCommand(GetStatementResultCommand);
  });
});
