import { gunzipSync } from 'node:zlib';
import { GetStatementResultCommand } from '@aws-sdk/client-redshift-data';
import { AbortMultipartUploadCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import type { ResultManifest } from '../../../functions/common/result-store.ts';
import { fetchResults } from '../../../functions/fetch-results.ts';
import { redshift, resetClients, s3 } from '../../support/mocked-clients.ts';
import { runningState } from '../../support/query-state.ts';
import { RESULT_EXPIRES_AT, resultManifest } from '../../support/result-manifest.ts';
import { NOW, unitDeps } from '../../support/unit-deps.ts';
import * as fx from './fixtures.ts';

/**
 * FetchResults writing a result that does not fit in the execution's output to the results bucket
 * (functions/common/result-spill.ts): the inline budget, parts and their manifest, multipart
 * uploads, and what happens when S3 or a page read fails.
 */

describe('Function: fetchResults', () => {
  it('keeps a result just under the inline budget inline, and writes one just over it to S3', async () => {
    // Prepare: find the row count whose inline output is the largest within the budget
    const budget = 20_000;
    const { deps } = unitDeps({ SPECTRA_RESULT_INLINE_MAX_BYTES: String(budget) });
    let fits = 0;
    for (let count = 1; ; count++) {
      resetClients();
      fx.servePages(count, 1000, () => 'n'.repeat(50));
      const result = await fetchResults(fx.finished, deps);
      if (result.result !== undefined) break;
      fits = count;
    }

    // Act
    resetClients();
    fx.servePages(fits, 1000, () => 'n'.repeat(50));
    const under = await fetchResults(fx.finished, deps);
    redshift.reset();
    fx.servePages(fits + 1, 1000, () => 'n'.repeat(50));
    const over = await fetchResults(fx.finished, deps);

    // Assess: under the budget every row is inline and within it, with nothing written
    expect(under.result).toBeUndefined();
    expect(under.rowCount).toBe(fits);
    expect(fx.outputBytes(under)).toBeLessThanOrEqual(budget);
    // Over it, the rows are in S3, the output has a preview and says where the rest is
    expect(over.result).toEqual({
      location: `s3://spectra-results/${fx.PREFIX}manifest.json`,
      format: 'JSONL_GZIP',
      parts: 1,
      rows: fits + 1,
      bytes: fx.uploads().get(`${fx.PREFIX}rows.jsonl.gz`)?.length,
      expiresAt: RESULT_EXPIRES_AT,
    });
    expect(over.truncated).toBe(false);
    expect(over.totalRows).toBe(fits + 1);
    expect(over.rows).toEqual(Array.from({ length: over.rowCount }, (_, i) => [i, 'n'.repeat(50)]));
    expect(over.rowCount).toBeGreaterThan(0);
    expect(fx.outputBytes(over)).toBeLessThanOrEqual(budget);
    const rows = fx.linesOf(fx.uploads().get(`${fx.PREFIX}rows.jsonl.gz`) as Buffer);
    expect(rows).toEqual(Array.from({ length: fits + 1 }, (_, i) => [i, 'n'.repeat(50)]));
  });

  it('writes a large result in parts that each gunzip on their own, and a manifest that lists them', async () => {
    // Prepare: ~45 bytes a line, parts of 64 KiB: about 1,450 lines a part
    const { deps } = unitDeps({ SPECTRA_RESULT_PART_BYTES: '65536' });
    const md5ish = (i: number) => i.toString(16).padStart(32, '0');
    fx.servePages(10_000, 1000, md5ish);

    // Act
    const result = await fetchResults(fx.finished, deps);

    // Assess
    const objects = fx.uploads();
    const data = objects.get(`${fx.PREFIX}rows.jsonl.gz`) as Buffer;
    const manifest = JSON.parse(
      (objects.get(`${fx.PREFIX}manifest.json`) as Buffer).toString('utf8'),
    ) as ResultManifest;
    expect(manifest).toEqual(
      resultManifest({
        columns: [
          { name: 'id', type: 'int8' },
          { name: 'name', type: 'varchar' },
        ],
        rows: 10_000,
        bytes: data.length,
        uncompressedBytes: gunzipSync(data).length,
        data: `s3://spectra-results/${fx.PREFIX}rows.jsonl.gz`,
        // Each part is checked below.
        parts: expect.any(Array),
        createdAt: NOW.toISOString(),
      }),
    );
    expect(result.result?.parts).toBe(manifest.parts.length);
    expect(manifest.parts.length).toBeGreaterThanOrEqual(6);
    let next = 0;
    for (const part of manifest.parts) {
      expect(part.rowOffset).toBe(next);
      const rows = fx.linesOf(data.subarray(part.offset, part.offset + part.bytes));
      expect(rows).toEqual(
        Array.from({ length: part.rows }, (_, i) => [next + i, md5ish(next + i)]),
      );
      next += part.rows;
    }
    expect(next).toBe(10_000);
    // And the object read whole is the result, in order
    expect(fx.linesOf(data)).toHaveLength(10_000);
  });

  it('streams a result larger than an upload part through a multipart upload', async () => {
    // Prepare: about 16 MB of JSON Lines that gzip barely shrinks: more than one 8 MiB upload part
    const { deps } = unitDeps();
    fx.bucketTakesMultipartUploads();
    fx.servePages(150_000, 10_000, fx.incompressible);

    // Act
    const result = await fetchResults(fx.finished, deps);

    // Assess
    expect(fx.partsSent()).toBeGreaterThanOrEqual(2);
    const rows = fx.linesOf(fx.uploads().get(`${fx.PREFIX}rows.jsonl.gz`) as Buffer);
    expect(rows).toHaveLength(150_000);
    expect(rows[149_999]).toEqual([149_999, fx.incompressible(149_999)]);
    expect(result.result?.rows).toBe(150_000);
  });

  it('applies the limits to a written result too: every row up to the limit is in S3', async () => {
    const { deps } = unitDeps({ SPECTRA_RESULT_INLINE_MAX_BYTES: '2048' });
    fx.servePages(5000, 1000);

    const result = await fetchResults(
      runningState(fx.finished.statement, { query: { ...fx.finished.query, rowLimit: 3000 } }),
      deps,
    );

    expect(result.truncated).toBe(true);
    expect(result.result?.rows).toBe(3000);
    expect(fx.linesOf(fx.uploads().get(`${fx.PREFIX}rows.jsonl.gz`) as Buffer)).toHaveLength(3000);
    expect(redshift).toReceiveCommandTimes(GetStatementResultCommand, 3);
  });

  it('keeps the output under 256 KiB at the largest budget, whatever the query returns', async () => {
    const { deps } = unitDeps({ SPECTRA_RESULT_INLINE_MAX_BYTES: '250000' });
    const records = Array.from({ length: 2000 }, () => [
      { longValue: 1 },
      { stringValue: 'é'.repeat(400) },
    ]);
    fx.resultPages(fx.columns, [records]);

    const result = await fetchResults(fx.finished, deps);

    expect(result.result?.rows).toBe(2000);
    expect(result.truncated).toBe(false);
    expect(fx.outputBytes(result)).toBeLessThanOrEqual(250_000);
  });

  it('aborts the upload and fails as transient when S3 keeps failing, so that the step is retried', async () => {
    const { deps } = unitDeps();
    fx.bucketSlowsDownUploads();
    fx.servePages(150_000, 10_000, fx.incompressible);

    await expect(fetchResults(fx.finished, deps)).rejects.toMatchObject({
      name: 'TransientServiceError',
    });
    expect(s3).toReceiveCommand(AbortMultipartUploadCommand);
    expect(s3).not.toReceiveCommandWith(PutObjectCommand, { Key: `${fx.PREFIX}manifest.json` });
  });

  it('fails with the error of a page read ahead while the one before it is written, and aborts the upload', async () => {
    // Prepare: a result written from its first page; the third page's read fails while the
    // second page goes through gzip.
    const { deps } = unitDeps({ SPECTRA_RESULT_INLINE_MAX_BYTES: '2048' });
    fx.servePages(3000, 1000, fx.incompressible);
    fx.resultPageFails('p2', fx.statementExpired());
    fx.bucketTakesMultipartUploads();

    // Act
    const failure = fetchResults(fx.finished, deps);

    // Assess
    await expect(failure).rejects.toMatchObject({ name: 'ValidationException' });
    expect(s3).not.toReceiveCommandWith(PutObjectCommand, { Key: `${fx.PREFIX}manifest.json` });
  });
});
