import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ResultExpiredError,
  ResultNotWrittenError,
  SpectraClient,
  type SucceededQuery,
} from '../../client/index.ts';
import { argv, parseCsv, runCli as spectra } from '../support/cli.ts';
import { client, HUNDRED_THOUSAND, payloadSizes, stack, useResultsStack } from './results-stack.ts';

/**
 * Results of any size through the whole local stack: the functions, the Data API emulator on
 * PGlite, S3. What a user reads (the client's rows, the CLI's output, a presigned URL's bytes) is
 * every row, in order, with every digit. Step Functions' limits and the query's own limits are in
 * results-limits.test.ts.
 */

/** The rows that query returns, as `spectra results --csv` prints them after its header. */
const expectedCsvLines = () => {
  const lines = ['g,hash'];
  for (let g = 1; g <= 100_000; g++)
    lines.push(`${g},${createHash('md5').update(String(g)).digest('hex')}`);
  return lines;
};
const sha256 = (text: string | Uint8Array) => createHash('sha256').update(text).digest('hex');

let scratch: string;
let large: SucceededQuery;

useResultsStack();

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'spectra-results-'));
  large = await client.runQuery(
    { tenantId: 'acme', sql: HUNDRED_THOUSAND },
    { pollIntervalMs: 50 },
  );
}, 180_000);

afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('Results through the local stack', () => {
  describe('100,000 rows', () => {
    it('are written to the results bucket; the output has their location and a preview', async () => {
      const { result } = large;
      expect(result.result).toEqual({
        location: expect.stringMatching(
          /^s3:\/\/spectra-results\/results\/spectra-query\/.+\/manifest\.json$/,
        ),
        format: 'JSONL_GZIP',
        parts: 1,
        rows: 100_000,
        bytes: expect.any(Number),
        expiresAt: expect.stringMatching(/T00:00:00\.000Z$/),
      });
      expect(result.totalRows).toBe(100_000);
      expect(result.truncated).toBe(false);
      expect(result.rows.length).toBe(result.rowCount);
      expect(result.rows[0]).toEqual([1, 'c4ca4238a0b923820dcc509a6f75849b']);
      const sizes = await payloadSizes(large.executionArn);
      expect(Math.max(...sizes)).toBeLessThanOrEqual(262_144);
    });

    it('arrive complete and in order through the client iterator', async () => {
      let expected = 1;
      let inOrder = true;
      for await (const row of large.result) {
        if (
          row[0] !== expected ||
          row[1] !== createHash('md5').update(String(expected)).digest('hex')
        )
          inOrder = false;
        expected++;
      }
      expect(inOrder).toBe(true);
      expect(expected - 1).toBe(100_000);
    });

    it('print complete with spectra results --csv (line count and checksum) and --jsonl', async () => {
      const [csv, jsonl] = await Promise.all([
        spectra(argv`results ${large.executionArn} --csv`),
        spectra(argv`results ${large.executionArn} --jsonl`),
      ]);
      expect([csv.code, jsonl.code]).toEqual([0, 0]);
      const csvLines = csv.stdout.split('\r\n');
      expect(csvLines.pop()).toBe('');
      expect(csvLines.length).toBe(100_001);
      expect(sha256(csvLines.join('\n'))).toBe(sha256(expectedCsvLines().join('\n')));
      const jsonLines = jsonl.stdout.trimEnd().split('\n');
      expect(jsonLines.length).toBe(100_000);
      expect(jsonLines[99_999]).toBe(
        `[100000,"${createHash('md5').update('100000').digest('hex')}"]`,
      );
      expect(parseCsv(`${csvLines.slice(0, 3).join('\r\n')}\r\n`)).toEqual([
        ['g', 'hash'],
        ['1', 'c4ca4238a0b923820dcc509a6f75849b'],
        ['2', 'c81e728d9d4c2f636f067f89cc14862c'],
      ]);
    });

    it('print as one JSON document with every row with --json', async () => {
      const json = await spectra(argv`results ${large.executionArn} --json`);
      const document = JSON.parse(json.stdout) as typeof large.result;
      expect(document.rows).toHaveLength(100_000);
      expect(document.rowCount).toBe(100_000);
      expect(document.rows[99_999]).toEqual([
        100_000,
        createHash('md5').update('100000').digest('hex'),
      ]);
      expect(document.result).toEqual(large.result.result);
    });

    it('print as a table, and to a file with --output', async () => {
      const file = join(scratch, 'rows.jsonl');
      const [table, written] = await Promise.all([
        spectra(argv`results ${large.executionArn}`),
        spectra(argv`results ${large.executionArn} --jsonl --output ${file}`),
      ]);
      const lines = table.stdout.trimEnd().split('\n');
      expect(lines[0]).toMatch(/^\s+g {2}hash$/);
      expect(lines.at(-1)).toBe('(100000 rows)');
      expect(lines.length).toBe(100_003);
      expect(written.stderr).toBe(`Wrote 100000 rows to ${file}\n`);
      expect((await readFile(file, 'utf8')).trimEnd().split('\n').length).toBe(100_000);
    });

    it('download through a presigned URL as the same bytes as the download helper writes', async () => {
      const url = await large.result.presignedUrl({ expiresInSeconds: 300 });
      const fromUrl = new Uint8Array(await (await fetch(url)).arrayBuffer());
      const file = join(scratch, 'rows.jsonl.gz');
      const downloaded = await large.result.download(file);
      const fromHelper = await readFile(file);
      expect(downloaded.bytes).toBe(large.result.result?.bytes);
      expect(sha256(fromUrl)).toBe(sha256(fromHelper));
      expect(gunzipSync(fromUrl).toString('utf8').split('\n').length - 1).toBe(100_000);
      const cli = await spectra(argv`results ${large.executionArn} --url --expires-in 60`);
      expect(cli.stdout).toMatch(
        /^http:\/\/127\.0\.0\.1:\d+\/spectra-results\/results\/.+rows\.jsonl\.gz\?X-Amz-/,
      );
    });
  });

  it('keeps a result just under the inline budget in the output, and writes one just over it', async () => {
    // Rows of a known size: [g,"x…x"] and the comma between them. The default budget is 200,000
    // bytes; the rest of the output (ids, columns, counts) takes a few hundred.
    const budget = 200_000;
    const rowBytes = (g: number) => JSON.stringify([g, 'x'.repeat(100)]).length + 1;
    const bytesOf = (rows: number) => {
      let bytes = 0;
      for (let g = 1; g <= rows; g++) bytes += rowBytes(g);
      return bytes;
    };
    let under = 0;
    while (bytesOf(under + 1) <= budget - 1000) under++;
    let over = under;
    while (bytesOf(over) <= budget) over++;
    const sql = (rows: number) =>
      `select g, repeat('x', 100) as pad from generate_series(1, ${rows}) g order by g`;

    const [inline, written] = await Promise.all([
      client.runQuery({ tenantId: 'acme', sql: sql(under) }),
      client.runQuery({ tenantId: 'acme', sql: sql(over) }),
    ]);

    expect(inline.result.result).toBeUndefined();
    expect(inline.result.rowCount).toBe(under);
    expect(Buffer.byteLength(JSON.stringify(inline.result))).toBeGreaterThan(budget - 1000);
    expect(Buffer.byteLength(JSON.stringify(inline.result))).toBeLessThanOrEqual(budget);
    expect(written.result.result?.rows).toBe(over);
    expect(written.result.rowCount).toBeLessThan(over);
    expect(Buffer.byteLength(JSON.stringify(written.result))).toBeLessThanOrEqual(budget);
    const rows = [];
    for await (const row of written.result) rows.push(row);
    expect(rows).toEqual(Array.from({ length: over }, (_, i) => [i + 1, 'x'.repeat(100)]));
  });

  it('writes each result set of a batch that does not fit, and reads every row of each', async () => {
    const { executionArn, result } = await client.runQuery({
      tenantId: 'acme',
      statements: [
        'select g from generate_series(1, 3) g order by g',
        'create temporary table t (n int)',
        HUNDRED_THOUSAND.replace('100000', '20000'),
      ],
    });

    const [small, created, rowsOf20000] = result.statements ?? [];
    expect(small?.result?.rows).toEqual([[1], [2], [3]]);
    expect(small?.result?.result).toBeUndefined();
    expect(created).toMatchObject({ hasResultSet: false, rowsAffected: 0 });
    expect(rowsOf20000?.result?.result).toMatchObject({ format: 'JSONL_GZIP', rows: 20_000 });
    expect(result.result).toEqual(rowsOf20000?.result?.result);
    const read = async (rows: AsyncIterable<unknown[]>) => {
      let count = 0;
      let inOrder = true;
      for await (const row of rows) {
        count++;
        if (row[0] !== count || row[1] !== createHash('md5').update(String(count)).digest('hex'))
          inOrder = false;
      }
      return { count, inOrder };
    };
    if (rowsOf20000?.result === undefined) throw new Error('expected a result set');
    expect(await read(rowsOf20000.result)).toEqual({ count: 20_000, inOrder: true });
    expect(await read(result)).toEqual({ count: 20_000, inOrder: true });
    const sizes = await payloadSizes(executionArn);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(262_144);
  });

  it('keeps a small result inline: no URL, the rows are in the output', async () => {
    const small = await client.runQuery({ tenantId: 'acme', sql: 'select 1 as one' });
    expect(small.result.result).toBeUndefined();
    const rows = [];
    for await (const row of small.result) rows.push(row);
    expect(rows).toEqual([[1]]);
    await expect(small.result.presignedUrl()).rejects.toBeInstanceOf(ResultNotWrittenError);
  });

  it('reaches the caller with every digit of int8 and numeric, at the edges', async () => {
    const { result } = await client.runQuery({
      tenantId: 'acme',
      sql: `select 12345678901234567::int8 as a, 9007199254740993::int8 as b,
              9007199254740991::int8 as c, 9223372036854775807::int8 as d,
              (-9223372036854775807 - 1)::int8 as e, -9007199254740993::int8 as f,
              1234567890123456789012345678.0123456789::numeric(38,10) as g,
              -0.0000000001::numeric(38,10) as h, 9007199254740992::int8 as i,
              -9007199254740991::int8 as j, 9999999999999999999999999999.9999999999::numeric(38,10) as k`,
    });
    expect(result.rows).toEqual([
      [
        '12345678901234567',
        '9007199254740993',
        9007199254740991,
        '9223372036854775807',
        '-9223372036854775808',
        '-9007199254740993',
        '1234567890123456789012345678.0123456789',
        '-0.0000000001',
        // 2^53 is the first integer a double cannot tell from its neighbour: a string.
        '9007199254740992',
        -9007199254740991,
        '9999999999999999999999999999.9999999999',
      ],
    ]);
  });

  it('gives a clear error for an expired result, once the bucket has deleted it', async () => {
    const query = await client.runQuery({
      tenantId: 'acme',
      sql: HUNDRED_THOUSAND.replace('100000', '20000'),
    });
    const expiresAt = query.result.result?.expiresAt as string;
    // The lifecycle rule, applied as at a second past the result's expiry.
    const response = await fetch(`${stack.url}/_spectra/results/expire`, {
      method: 'POST',
      body: JSON.stringify({ now: new Date(Date.parse(expiresAt) + 1000).toISOString() }),
    });
    expect(((await response.json()) as { expired: string[] }).expired).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/manifest\.json$/),
        expect.stringMatching(/rows\.jsonl\.gz$/),
      ]),
    );

    const read = async () => {
      for await (const _row of query.result) {
        // reading
      }
    };
    await expect(read()).rejects.toBeInstanceOf(ResultExpiredError);
    await expect(read()).rejects.toThrow(
      new RegExp(
        `The result of .+ expired at ${expiresAt.replaceAll('.', '\\.')}.+Run the query again`,
      ),
    );
    const cli = await spectra(argv`results ${query.executionArn} --csv`);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(/^ResultExpiredError: The result of .+ expired at /);

    // The client's own clock says so too, past expiresAt, before asking S3 for anything.
    const largeExpiresAt = large.result.result?.expiresAt as string;
    const later = new SpectraClient({
      endpoint: stack.url,
      stateMachineArn: stack.stateMachineArn,
      clock: () => new Date(Date.parse(largeExpiresAt) + 1),
    });
    try {
      const again = await later.getQuery(large.executionArn);
      await expect(again.result?.presignedUrl()).rejects.toBeInstanceOf(ResultExpiredError);
    } finally {
      later.destroy();
    }
  });
});
