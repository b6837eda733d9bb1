import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PooledSession, type Query, SpectraClient } from '../../client/index.ts';
import type { QueryResult } from '../../functions/common/execution-output.ts';
import { consoleUrl } from '../../local/identity.ts';
import type { LocalStack } from '../../local/stack.ts';
import { SHORT_QUERY_PATH, STATES } from '../../statemachine/definition.ts';
import { parseCsv, parseTable, runCli as spectra } from '../support/cli.ts';
import { IMMEDIATE_RETRIES, startTestStack } from '../support/local-stack.ts';
import { type ProcessRun, runNode } from '../support/spawn.ts';
import { cellColumns, TERMINAL_CONTROLS } from '../support/terminal.ts';

/**
 * The `spectra` CLI against a local stack started in this process: `main()` runs in this process
 * with its output captured, as `bin/spectra.mjs` runs it on the process's own streams. A few
 * smoke tests run the launcher itself in a child process, for what only a real process shows:
 * its exit code and its stdin.
 */

// Short long-polls, so that a cancelled query is mid-poll rather than inside one long Submit.
process.env.SPECTRA_SUBMIT_WAIT_SECONDS = '1';
process.env.SPECTRA_POLL_WAIT_SECONDS = '1';
process.env.SPECTRA_DYNAMODB_SESSIONS_TABLE_NAME = 'spectra-sessions';
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';

let stack: LocalStack;
let client: SpectraClient;

/** `node bin/spectra.mjs …args` in a child process, as a user runs it. */
function spectraProcess(args: string[], options: { stdin?: string } = {}): Promise<ProcessRun> {
  return runNode(['bin/spectra.mjs', ...args], {
    env: {
      ...process.env,
      AWS_ENDPOINT_URL: stack.url,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      SPECTRA_STATE_MACHINE_ARN: stack.stateMachineArn,
    },
    stdin: options.stdin,
  });
}

const executionArnIn = (stderr: string) => /Execution (arn:\S+)/.exec(stderr)?.[1] ?? '';

beforeAll(async () => {
  stack = await startTestStack({ retryIntervalOverrides: IMMEDIATE_RETRIES });
  // What the CLI in this process finds in its environment: the stack (AWS_ENDPOINT_URL is set by
  // the stack itself) and its state machine.
  process.env.SPECTRA_STATE_MACHINE_ARN = stack.stateMachineArn;
  client = new SpectraClient({ endpoint: stack.url, stateMachineArn: stack.stateMachineArn });
}, 120_000);

afterAll(async () => {
  client?.destroy();
  await stack?.stop();
});

describe('CLI: spectra', () => {
  describe('a submitted query, read back', () => {
    const label = 'say "hi", then go';
    const sql =
      'select :label::varchar as label, n, case when n = 2 then null else n * 10 end as tens ' +
      'from generate_series(1, 3) as n order by n';
    let executionArn: string;

    beforeAll(async () => {
      const submitted = await spectra([
        'submit',
        '--tenant',
        'acme',
        '--sql',
        sql,
        '--param',
        `label=${label}`,
      ]);
      expect(submitted).toEqual(expect.objectContaining({ code: 0, stderr: '' }));
      executionArn = submitted.stdout.trim();
      expect(executionArn).toMatch(
        /^arn:aws:states:us-east-1:000000000000:execution:spectra-query:/,
      );
      await client.waitForQuery(executionArn, { pollIntervalMs: 50 });
    });

    it('shows its status, and its page in the local console', async () => {
      const status = await spectra(['status', executionArn]);

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
        spectra(['results', executionArn]),
        spectra(['results', executionArn, '--json']),
        spectra(['results', executionArn, '--csv']),
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
      const history = await spectra(['history', executionArn]);

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
      const run = await spectra([
        'run',
        '--tenant',
        'globex',
        '--sql',
        'select count(distinct tenant_id) as tenants, min(tenant_id) as tenant from sales',
      ]);

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
        spectra(['sessions', '--tenant', 'globex', '--json']),
        spectra(['sessions', '--tenant', 'globex']),
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

  describe('values a terminal would act on, and wide characters', () => {
    const submitAndWait = async (sql: string) => {
      const submitted = await spectra(['submit', '--tenant', 'acme', '--sql', sql]);
      const executionArn = submitted.stdout.trim();
      await client.waitForQuery(executionArn, { pollIntervalMs: 50 });
      return executionArn;
    };

    it('escapes ESC, OSC 8, BEL, C1 and DEL in the table and leaves CSV and JSON as they are', async () => {
      // Prepare: a result whose values hold what a terminal would obey
      const { sgr, osc8, bel, c1, del } = TERMINAL_CONTROLS;
      const columns = { sgr, osc8, bel, c1, del };
      const values = Object.values(columns).map((c) => c.value);
      const executionArn = await submitAndWait(
        "select chr(27) || '[31mred' || chr(27) || '[0m' as sgr, " +
          "chr(27) || ']8;;https://example.com/' || chr(7) || 'click' || chr(27) || ']8;;' || chr(7) as osc8, " +
          "'ding' || chr(7) as bel, chr(155) || '2J' || chr(157) || '0;title' || chr(156) as c1, " +
          "'rub' || chr(127) || 'out' as del",
      );

      // Act
      const [table, csv, json] = await Promise.all([
        spectra(['results', executionArn]),
        spectra(['results', executionArn, '--csv']),
        spectra(['results', executionArn, '--json']),
      ]);

      // Assess: the table shows the escapes, and no control character but its line feeds
      expect(table.code).toBe(0);
      expect(table.stdout.replaceAll('\n', '')).not.toMatch(/\p{Cc}/u);
      expect(parseTable(table.stdout).rows).toEqual([Object.values(columns).map((c) => c.shown)]);
      // CSV and JSON carry the values byte for byte, for the program that reads them
      expect(parseCsv(csv.stdout)).toEqual([Object.keys(columns), values]);
      const result = await client.getResult(executionArn);
      expect(result.rows).toEqual([values]);
      expect(json.stdout).toBe(`${JSON.stringify(result, null, 2)}\n`);
    });

    it("escapes control characters that Redshift's error message quotes back", async () => {
      // Act: the table name holds an erase-screen sequence, which the error message repeats
      const run = await spectra([
        'run',
        '--tenant',
        'acme',
        '--sql',
        'select * from "\x1b[2Jnope"',
      ]);

      // Assess
      expect(run.code).toBe(1);
      expect(run.stderr).not.toContain('\x1b');
      expect(run.stderr).toContain('relation "\\x1b[2Jnope" does not exist');
    });

    it('aligns CJK and emoji columns by the columns a terminal gives them', async () => {
      // Prepare
      const executionArn = await submitAndWait(
        "select '東京' as city, 'こんにちは 🎉' as greeting, 1 as n " +
          "union all select 'Osaka', '👩‍💻 hi', 22 " +
          "union all select '大阪', 'hey 🇯🇵', 333 order by n",
      );

      // Act
      const table = await spectra(['results', executionArn]);

      // Assess: each column starts, and the numbers end, at one terminal column on every line
      expect(table.code).toBe(0);
      const [header = '', , ...rows] = table.stdout.trimEnd().split('\n');
      const rowCells = [
        ['東京', 'こんにちは 🎉', '1'],
        ['Osaka', '👩‍💻 hi', '22'],
        ['大阪', 'hey 🇯🇵', '333'],
      ];
      const headerColumns = cellColumns(header, ['city', 'greeting', 'n']);
      expect([headerColumns[0]?.start, headerColumns[1]?.start, headerColumns[2]?.end]).toEqual([
        0, 7, 25,
      ]);
      expect(rows.slice(0, 3).map((line, i) => cellColumns(line, rowCells[i] ?? []))).toEqual(
        rowCells.map(() => [
          { start: 0, end: expect.any(Number) },
          { start: 7, end: expect.any(Number) },
          { start: expect.any(Number), end: 25 },
        ]),
      );
    });
  });

  describe('cancel', () => {
    it('stops a long query: ABORTED, and its session lease released', async () => {
      // Prepare: a statement running on its leased session, past Submit Query, so that the
      // clean-up after the stop knows which statement to cancel
      const submitted = await spectra([
        'submit',
        '--tenant',
        'umbrella',
        '--sql',
        'select pg_sleep(5)',
      ]);
      const executionArn = submitted.stdout.trim();
      const polling = async () =>
        (await client.getHistory(executionArn)).some((visit) => visit.state === STATES.poll);
      for (let i = 0; i < 200 && !(await polling()); i++) {
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      const leased = (await client.listSessions('umbrella')).filter(
        (s) => s.leaseOwner === executionArn,
      );
      expect(leased).toEqual([expect.objectContaining({ state: 'LEASED' })]);

      // Act
      const cancelled = await spectra(['cancel', executionArn]);

      // Assess
      expect(cancelled.code).toBe(0);
      expect(cancelled.stdout).toContain(`Cancelled ${executionArn} (ABORTED)`);
      const [status, sessions] = await Promise.all([
        spectra(['status', executionArn, '--json']),
        spectra(['sessions', '--tenant', 'umbrella', '--json']),
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
      const failed = await spectra(['run', '--tenant', 'initech', '--sql', 'select 7 as seven']);
      expect(failed.code).toBe(1);
      const executionArn = executionArnIn(failed.stderr);
      expect(failed.stderr).toContain('TransientServiceError');
      expect(failed.stderr).toContain(`Console: ${consoleUrl(stack.url, executionArn)}`);

      // Act
      const redriven = await spectra(['redrive', executionArn, '--wait', '--csv']);

      // Assess
      expect(redriven.code).toBe(0);
      expect(parseCsv(redriven.stdout)).toEqual([['seven'], ['7']]);
      const status = await spectra(['status', executionArn]);
      expect(status.stdout).toMatch(/^Status\s+SUCCEEDED$/m);
      expect(status.stdout).toMatch(/^Redriven\s+1 time, last /m);
    });

    it('refuses to redrive a query that succeeded, with exit code 1 and the reason', async () => {
      const executionArn = await client
        .runQuery({ tenantId: 'acme', sql: 'select 1' })
        .then((query) => query.executionArn);

      const run = await spectra(['redrive', executionArn]);

      expect(run.code).toBe(1);
      expect(run.stderr).toContain(
        'QueryNotRedrivableError: The query cannot be redriven: Execution is SUCCEEDED and cannot be redriven',
      );
    });
  });

  describe('errors the stack reports', () => {
    it.each([
      [
        ['status', 'arn:aws:states:us-east-1:000000000000:execution:spectra-query:nope'],
        1,
        'QueryNotFoundError: No query with the execution ARN arn:aws:states:us-east-1:000000000000:execution:spectra-query:nope',
      ],
      [['history', 'not-an-arn'], 1, 'QueryNotFoundError'],
    ])('fails %j with exit code %i and says what is wrong', async (args, exitCode, message) => {
      const run = await spectra(args);

      expect(run.code).toBe(exitCode);
      expect(run.stderr).toContain(message);
      expect(run.stdout).toBe('');
    });
  });

  describe('the launcher, bin/spectra.mjs, in a process of its own', () => {
    it('reads the SQL from stdin with --sql-file - and prints CSV', async () => {
      const run = await spectraProcess(['run', '--tenant', 'initech', '--sql-file', '-', '--csv'], {
        stdin: "select 'x,y' as pair, 7 as seven\n",
      });

      expect(run.code).toBe(0);
      expect(parseCsv(run.stdout)).toEqual([
        ['pair', 'seven'],
        ['x,y', '7'],
      ]);
    });

    it('fails a bad query with exit code 1 and the error name and message on stderr', async () => {
      const run = await spectraProcess([
        'run',
        '--tenant',
        'globex',
        '--sql',
        'select * from nope',
      ]);

      expect(run.code).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain(
        'QueryFailedError: The statement failed: ERROR: relation "nope" does not exist',
      );
    });
  });
});
