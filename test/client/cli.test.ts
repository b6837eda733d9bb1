import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { PooledSession, Query } from '../../client/index.ts';
import type { QueryResult } from '../../functions/common/execution-output.ts';
import { consoleUrl } from '../../local/identity.ts';
import { SHORT_QUERY_PATH, STATES } from '../../statemachine/definition.ts';
import { argv, parseCsv, parseTable, runCli as spectra } from '../support/cli.ts';
import { client, executionArnIn, stack, useCliStack } from './cli-stack.ts';

/**
 * The `spectra` CLI's commands against a local stack: a query submitted and read back (its status,
 * its rows in each format, the states it passed), run, cancel and redrive, and what each leaves in
 * the session pool. The stack, and the launcher in a child process, are in cli-stack.ts.
 */

useCliStack();

describe('CLI: spectra', () => {
  describe('a submitted query, read back', () => {
    const label = 'say "hi", then go';
    const sql =
      'select :label::varchar as label, n, case when n = 2 then null else n * 10 end as tens ' +
      'from generate_series(1, 3) as n order by n';
    let executionArn: string;

    beforeAll(async () => {
      const submitted = await spectra(
        argv`submit --tenant acme --sql ${sql} --param label=${label}`,
      );
      expect(submitted).toEqual(expect.objectContaining({ code: 0, stderr: '' }));
      executionArn = submitted.stdout.trim();
      expect(executionArn).toMatch(
        /^arn:aws:states:us-east-1:000000000000:execution:spectra-query:/,
      );
      await client.waitForQuery(executionArn, { pollIntervalMs: 50 });
    });

    it('shows its status, and its page in the local console', async () => {
      const status = await spectra(argv`status ${executionArn}`);

      expect(status.code).toBe(0);
      expect(status.stdout).toMatch(/^Status\s+SUCCEEDED$/m);
      expect(status.stdout).toMatch(/^Tenant\s+acme$/m);
      expect(status.stdout).toMatch(/^Result\s+3 rows, new session /m);
      const link = `${stack.url}/console/executions/${encodeURIComponent(executionArn)}`;
      expect(status.stderr).toBe(`Console: ${link}\n`);
      // The link opens the console's page of this execution.
      const page = await fetch(link);
      expect([page.status, page.headers.get('content-type')]).toEqual([
        200,
        'text/html; charset=utf-8',
      ]);
    });

    it('prints its rows as an aligned table, as JSON and as CSV', async () => {
      // Act
      const [table, json, csv] = await Promise.all([
        spectra(argv`results ${executionArn}`),
        spectra(argv`results ${executionArn} --json`),
        spectra(argv`results ${executionArn} --csv`),
      ]);

      // Assess
      expect([table.code, json.code, csv.code]).toEqual([0, 0, 0]);
      expect(parseTable(table.stdout)).toEqual({
        header: ['label', 'n', 'tens'],
        rows: [
          [label, '1', '10'],
          [label, '2', 'NULL'],
          [label, '3', '30'],
        ],
      });
      expect(table.stdout.trimEnd().endsWith('(3 rows)')).toBe(true);
      const result = JSON.parse(json.stdout) as QueryResult;
      expect(result).toEqual(
        expect.objectContaining({
          tenantId: 'acme',
          sessionReused: false,
          rowCount: 3,
          truncated: false,
          rows: [
            [label, 1, 10],
            [label, 2, null],
            [label, 3, 30],
          ],
        }),
      );
      expect(result.columns.map((c) => c.name)).toEqual(['label', 'n', 'tens']);
      expect(csv.stdout).toContain('"say ""hi"", then go"');
      expect(parseCsv(csv.stdout)).toEqual([
        ['label', 'n', 'tens'],
        [label, '1', '10'],
        [label, '2', ''],
        [label, '3', '30'],
      ]);
    });

    it('lists the states it passed, with their timing and outcome', async () => {
      const history = await spectra(argv`history ${executionArn}`);

      expect(history.code).toBe(0);
      const { header, rows } = parseTable(history.stdout);
      expect(header).toEqual(['STATE', 'ENTERED', 'DURATION', 'OUTCOME']);
      expect(rows.map((row) => row[0])).toEqual(SHORT_QUERY_PATH);
      expect(
        rows.every((row) => row[3] === 'succeeded' && /\d+(\.\d+)? (ms|s)$/.test(row[2] ?? '')),
      ).toBe(true);
      expect(history.stderr).toBe(`Console: ${consoleUrl(stack.url, executionArn)}\n`);
    });
  });

  describe('run', () => {
    it('submits, waits, prints the rows, and the sessions show the session it used', async () => {
      // Act
      const run = await spectra(
        argv`run --tenant globex --sql ${'select count(distinct tenant_id) as tenants, min(tenant_id) as tenant from sales'}`,
      );

      // Assess
      expect(run.code).toBe(0);
      expect(parseTable(run.stdout).rows).toEqual([['1', 'globex']]);
      // Not a terminal: no progress line, so no carriage returns or escape codes.
      expect(run.stderr).not.toContain('\r');
      expect(run.stderr).not.toContain('\u001b');
      const query = await client.getQuery(executionArnIn(run.stderr));
      const sessionId = query.result?.sessionId;
      expect(sessionId).toEqual(expect.any(String));

      const [json, table] = await Promise.all([
        spectra(argv`sessions --tenant globex --json`),
        spectra(argv`sessions --tenant globex`),
      ]);
      const sessions = JSON.parse(json.stdout) as PooledSession[];
      expect(sessions).toEqual([
        expect.objectContaining({
          id: sessionId,
          state: 'IDLE',
          tenantId: 'globex',
          dbUser: 'tenant_globex',
        }),
      ]);
      const listed = parseTable(table.stdout);
      expect(listed.header).toEqual(['SESSION', 'STATE', 'LAST USED', 'EXPIRES', 'LEASED TO']);
      expect(listed.rows).toEqual([
        [
          sessionId,
          'IDLE',
          expect.stringMatching(/ago\)$/),
          expect.stringMatching(/\(in \d+ min\)$/),
        ],
      ]);
    });
  });

  describe('cancel', () => {
    it('stops a long query: ABORTED, and its session lease released', async () => {
      // Prepare: a statement running (held until the test is done) on its leased session, past
      // Submit Query, so that the clean-up after the stop knows which statement to cancel
      const marker = `hold-${randomUUID()}`;
      stack.controls.emulator.holdStatements(marker);
      onTestFinished(() => {
        stack.controls.emulator.releaseStatements(marker);
      });
      const submitted = await spectra(
        argv`submit --tenant umbrella --sql ${`select 1 -- ${marker}`}`,
      );
      const executionArn = submitted.stdout.trim();
      const polling = async () =>
        (await client.getHistory(executionArn)).some((visit) => visit.state === STATES.poll);
      while (!(await polling())) await new Promise((resolve) => setTimeout(resolve, 25));
      const leased = (await client.listSessions('umbrella')).filter(
        (s) => s.leaseOwner === executionArn,
      );
      expect(leased).toEqual([expect.objectContaining({ state: 'LEASED' })]);

      // Act
      const cancelled = await spectra(argv`cancel ${executionArn}`);

      // Assess
      expect(cancelled.code).toBe(0);
      expect(cancelled.stdout).toContain(`Cancelled ${executionArn} (ABORTED)`);
      const [status, sessions] = await Promise.all([
        spectra(argv`status ${executionArn} --json`),
        spectra(argv`sessions --tenant umbrella --json`),
      ]);
      expect((JSON.parse(status.stdout) as Query).status).toBe('ABORTED');
      const pool = JSON.parse(sessions.stdout) as PooledSession[];
      expect(pool).toEqual([expect.objectContaining({ id: leased[0]?.id, state: 'IDLE' })]);
      expect(pool[0]).not.toHaveProperty('leaseOwner');
    });
  });

  describe('redrive', () => {
    it("redrives a query that failed in Fetch Results to its rows, and prints the failed run's console link", async () => {
      // Prepare: Fetch Results fails through every retry (5 attempts) of its first run
      await fetch(`${stack.url}/_spectra/faults`, {
        method: 'POST',
        body: JSON.stringify({
          target: 'Lambda.FetchResults',
          error: 'TransientServiceError',
          count: 5,
        }),
      });
      const failed = await spectra(argv`run --tenant initech --sql ${'select 7 as seven'}`);
      expect(failed.code).toBe(1);
      const executionArn = executionArnIn(failed.stderr);
      expect(failed.stderr).toContain('TransientServiceError');
      expect(failed.stderr).toContain(`Console: ${consoleUrl(stack.url, executionArn)}`);

      // Act
      const redriven = await spectra(argv`redrive ${executionArn} --wait --csv`);

      // Assess
      expect(redriven.code).toBe(0);
      expect(parseCsv(redriven.stdout)).toEqual([['seven'], ['7']]);
      const status = await spectra(argv`status ${executionArn}`);
      expect(status.stdout).toMatch(/^Status\s+SUCCEEDED$/m);
      expect(status.stdout).toMatch(/^Redriven\s+1 time, last /m);
    });

    it('refuses to redrive a query that succeeded, with exit code 1 and the reason', async () => {
      const executionArn = await client
        .runQuery({ tenantId: 'acme', sql: 'select 1' })
        .then((query) => query.executionArn);

      const run = await spectra(argv`redrive ${executionArn}`);

      expect(run.code).toBe(1);
      expect(run.stderr).toContain(
        'QueryNotRedrivableError: The query cannot be redriven: Execution is SUCCEEDED and cannot be redriven',
      );
    });
  });
});
