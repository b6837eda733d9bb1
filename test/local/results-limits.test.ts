import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { QueryExecutionError } from '../../client/index.ts';
import { argv, runCli as spectra } from '../support/cli.ts';
import { client, HUNDRED_THOUSAND, payloadSizes, sfn, useResultsStack } from './results-stack.ts';

/**
 * The limits a result meets on the whole local stack: each state of the execution within Step
 * Functions' 256 KiB and the cause within 32 KiB whatever the SQL, the result or the error; the
 * query's rowLimit and byteLimit; and the Data API's own limit on a result's size.
 */

useResultsStack();

describe('Results through the local stack', () => {
  it('keeps every state under 256 KiB and the cause under 32 KiB with a 100 KB SQL and a 100 KB error', async () => {
    // The SQL is 100 KB; PostgreSQL quotes the bad value back whole in its error text.
    const value = 'a'.repeat(100 * 1024 - 40);
    const sql = `select '${value}'::int as n`;
    expect(Buffer.byteLength(sql)).toBeLessThanOrEqual(100 * 1024);
    const { executionArn } = await client.submitQuery({ tenantId: 'acme', sql });
    const query = await client.waitForQuery(executionArn, { pollIntervalMs: 50 });

    expect(query.status).toBe('FAILED');
    expect(query.error).toBe('QueryFailedError');
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    expect((described.cause ?? '').length).toBeLessThanOrEqual(32_768);
    expect(query.cause?.redshiftError).toMatch(
      /^ERROR: invalid input syntax for type integer: "a+/,
    );
    expect(query.cause?.redshiftError).toMatch(/\[cut: \d+ bytes in all\]$/);
    const sizes = await payloadSizes(executionArn);
    expect(Math.max(...sizes)).toBeGreaterThan(100 * 1024);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(262_144);
  });

  it('keeps every state under 256 KiB with a 100 KB SQL and a written result', async () => {
    const comment = `/* ${'c'.repeat(100 * 1024 - HUNDRED_THOUSAND.length - 10)} */`;
    const sql = `${HUNDRED_THOUSAND} ${comment}`;
    expect(Buffer.byteLength(sql)).toBeGreaterThan(100 * 1024 - 20);
    expect(Buffer.byteLength(sql)).toBeLessThanOrEqual(100 * 1024);

    const { executionArn, result } = await client.runQuery({ tenantId: 'acme', sql });

    expect(result.result?.rows).toBe(100_000);
    const sizes = await payloadSizes(executionArn);
    expect(Math.max(...sizes)).toBeGreaterThan(100 * 1024);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(262_144);
  });

  it('stops at rowLimit and byteLimit, and says truncated only when they cut the result', async () => {
    const sql = 'select g from generate_series(1, 50) g order by g';
    const [byRows, byBytes, whole] = await Promise.all([
      client.runQuery({ tenantId: 'acme', sql, rowLimit: 10 }),
      client.runQuery({ tenantId: 'acme', sql, byteLimit: 20 }),
      client.runQuery({ tenantId: 'acme', sql, rowLimit: 50 }),
    ]);
    expect(byRows.result.rows).toEqual(Array.from({ length: 10 }, (_, i) => [i + 1]));
    expect(byRows.result.truncated).toBe(true);
    expect(byRows.result.totalRows).toBe(50);
    // [1]\n [2]\n ... four bytes a line: five lines
    expect(byBytes.result.rows).toEqual([[1], [2], [3], [4], [5]]);
    expect(byBytes.result.truncated).toBe(true);
    expect(whole.result.rowCount).toBe(50);
    expect(whole.result.truncated).toBe(false);
    const cli = await spectra(argv`run --tenant acme --sql ${sql} --row-limit 3`);
    expect(cli.stdout.trimEnd().split('\n').at(-1)).toBe(
      '(3 rows: rowLimit or byteLimit left out the rest of 50 rows)',
    );
  });

  it('refuses a bad rowLimit before anything runs, saying what is allowed', async () => {
    await expect(
      client.submitQuery({ tenantId: 'acme', sql: 'select 1', rowLimit: 0 }),
    ).rejects.toThrow(/rowLimit must be a whole number of rows, at least 1.*got number 0/);
  });

  it('fails a result over the Data API limit with ResultTooLargeError, which points to UNLOAD', async () => {
    const error = await client
      .runQuery({
        tenantId: 'acme',
        sql: "select g, repeat('x', 1000) as pad from generate_series(1, 30000) g",
      })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(QueryExecutionError);
    expect((error as QueryExecutionError).errorName).toBe('ResultTooLargeError');
    expect((error as QueryExecutionError).message).toMatch(/UNLOAD \('select \.\.\.'\) TO 's3:/);
  });
});
