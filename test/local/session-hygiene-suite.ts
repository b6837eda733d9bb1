import { randomUUID } from 'node:crypto';
import {
  DescribeStatementCommand,
  type DescribeStatementResponse,
  ExecuteStatementCommand,
} from '@aws-sdk/client-redshift-data';
import { GetExecutionHistoryCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EndedExecution, StackApi } from '../../bench/chaos/stack-api.ts';
import type { LocalStack } from '../../local/stack.ts';
import { STATES } from '../../statemachine/definition.ts';
import { startStackWithApi } from '../support/local-stack.ts';

/**
 * Every query starts on a clean session, tried as a tenant would through the local stack over
 * HTTP: transaction control is refused, SET and temporary tables never reach a later query of the
 * tenant or of another tenant, a reused session inside a failed transaction is replaced (whether
 * Submit Query or Poll Status sees the answer; on PostgreSQL also a transaction really failed on
 * the session), and `statements` run as one batch. Run on each SQL engine.
 */
export function describeSessionHygieneSuite(
  engineName: string,
  databaseUrl: () => string | undefined,
): void {
  describe(`Session hygiene, through the local stack on ${engineName}`, () => {
    let stack: LocalStack;
    let api: StackApi;
    const run = `h${randomUUID().slice(0, 6)}`;
    const tenant = (name: string) => `${run}-${name}`;

    beforeAll(async () => {
      process.env.SPECTRA_SUBMIT_WAIT_SECONDS = '1';
      process.env.SPECTRA_POLL_WAIT_SECONDS = '1';
      ({ stack, api } = await startStackWithApi({ databaseUrl: databaseUrl() }));
    }, 120_000);

    afterAll(async () => {
      api?.destroy();
      await stack?.stop();
    });

    async function query(input: Record<string, unknown>): Promise<EndedExecution> {
      const arn = await api.start(randomUUID(), input);
      return api.waitForEnd(arn, Date.now() + 60_000, 25);
    }

    async function succeeded(input: Record<string, unknown>): Promise<Record<string, unknown>> {
      const ended = await query(input);
      expect(ended.status, JSON.stringify(ended.cause ?? ended.error)).toBe('SUCCEEDED');
      return ended.output as Record<string, unknown>;
    }

    const rowsOf = (output: Record<string, unknown>) => output.rows as unknown[][];

    /** A tenant with its database user and a table of its own. */
    async function tenantWithTable(name: string): Promise<{ tenantId: string; table: string }> {
      const tenantId = tenant(name);
      await api.control('db-users', { tenantId });
      const table = `${tenantId.replaceAll('-', '_')}_t`;
      await succeeded({ tenantId, sql: `create table ${table} (x int)` });
      return { tenantId, table };
    }

    /** What `select count(*)` on the table answers the tenant. */
    async function rowsCounted(tenantId: string, table: string): Promise<unknown[][]> {
      return rowsOf(await succeeded({ tenantId, sql: `select count(*) from ${table}` }));
    }

    /** A batch of three statements into `table` whose second fails. */
    const insertsAroundAFailure = (table: string) => [
      `insert into ${table} values (1)`,
      'select 1/0',
      `insert into ${table} values (2)`,
    ];

    /** The states an execution has entered so far, in order. */
    async function statesEntered(executionArn: string): Promise<string[]> {
      const { events } = await api.sfn.send(new GetExecutionHistoryCommand({ executionArn }));
      return (events ?? [])
        .filter((event) => event.type?.endsWith('StateEntered'))
        .map((event) => event.stateEnteredEventDetails?.name ?? '');
    }

    /** Waits until the execution has entered `state`. */
    async function untilEntered(executionArn: string, state: string): Promise<void> {
      while (!(await statesEntered(executionArn)).includes(state))
        await new Promise((resolve) => setTimeout(resolve, 25));
    }

    /** Runs SQL on a session through the Data API itself, as a client other than Spectra would. */
    async function onSession(sessionId: string, sql: string): Promise<DescribeStatementResponse> {
      const { Id } = await api.redshiftData.send(
        new ExecuteStatementCommand({ SessionId: sessionId, Sql: sql }),
      );
      return api.redshiftData.send(new DescribeStatementCommand({ Id, WaitTimeSeconds: 20 }));
    }

    /** How the Data API ended each statement of `sessionId` whose SQL contains `text`. */
    async function statementsOn(
      sessionId: string,
      text: string,
    ): Promise<DescribeStatementResponse[]> {
      const listed = (await api.listStatements()).filter(
        (statement) => statement.SessionId === sessionId && statement.QueryString?.includes(text),
      );
      return Promise.all(
        listed.map((statement) =>
          api.redshiftData.send(new DescribeStatementCommand({ Id: statement.Id })),
        ),
      );
    }

    /**
     * The execution's statement failed on the dirty session with the failed-transaction error
     * (once), and the execution then succeeded on another session with `rows`.
     */
    function expectReplaced(
      ended: EndedExecution,
      dirtySessionId: string,
      onDirtySession: DescribeStatementResponse[],
      rows: unknown[][],
    ): void {
      expect(onDirtySession.map((statement) => [statement.Status, statement.Error])).toEqual([
        [
          'FAILED',
          'ERROR: current transaction is aborted, commands ignored until end of transaction block',
        ],
      ]);
      expect(ended.status, JSON.stringify(ended.cause ?? ended.error)).toBe('SUCCEEDED');
      expect(ended.output?.rows).toEqual(rows);
      expect(ended.output?.sessionId).not.toBe(dirtySessionId);
    }

    const invalidations = async () =>
      (await api.counters()).lambdaInvocations.InvalidateSession ?? 0;

    /** Closes every session the Data API has open, as keep-alives running out would. */
    async function closeEverySession(): Promise<void> {
      for (const status of ['AVAILABLE', 'BUSY'] as const)
        for (const session of await api.sessionsWithStatus(status))
          await api.control('sessions/expire', { sessionId: session.SessionId });
    }

    it('refuses begin before touching anything, and the insert after it is not lost', async () => {
      // Prepare
      const { tenantId, table } = await tenantWithTable('begin');
      const before = (await api.counters()).calls;

      // Act
      const begun = await query({ tenantId, sql: 'begin' });
      const afterBegin = (await api.counters()).calls;
      const inserted = await succeeded({ tenantId, sql: `insert into ${table} values (1)` });
      await closeEverySession();
      const count = await rowsCounted(tenantId, table);

      // Assess
      expect(begun.status).toBe('FAILED');
      expect(begun.error).toBe('InvalidInputError');
      expect(String(begun.cause?.message)).toContain('statements');
      const touched = Object.keys(afterBegin).filter(
        (target) =>
          // No statement, and no lease or session written (the failure path only reads the pool).
          /^(RedshiftData\.|DynamoDB_20120810\.(PutItem|UpdateItem))/.test(target) &&
          afterBegin[target] !== before[target],
      );
      expect(touched).toEqual([]);
      expect(inserted.totalRows).toBe(1);
      expect(count).toEqual([[1]]);
    });

    it('refuses begin and an insert sent together as sql, and writes nothing', async () => {
      const { tenantId, table } = await tenantWithTable('together');

      const refused = await query({
        tenantId,
        sql: `begin; insert into ${table} values (1)`,
      });
      const count = await rowsCounted(tenantId, table);

      expect(refused.error).toBe('InvalidInputError');
      expect(count).toEqual([[0]]);
    });

    it('keeps a SET and a temporary table from every later query of the tenant and of others', async () => {
      // Prepare: the demo tenants' sales, counted before anything is planted.
      const acme = 'acme';
      const globex = 'globex';
      const count = 'select count(*) from sales';
      const acmeCount = rowsOf(await succeeded({ tenantId: acme, sql: count }));
      const globexCount = rowsOf(await succeeded({ tenantId: globex, sql: count }));

      // Act: acme plants a setting and a temporary table that shadows sales.
      const planted = [
        await succeeded({ tenantId: acme, sql: 'set search_path to pg_catalog' }),
        await succeeded({ tenantId: acme, sql: 'create temp table sales as select 42 as n' }),
      ];
      const later: unknown[][][] = [];
      for (let i = 0; i < 6; i++) {
        later.push(rowsOf(await succeeded({ tenantId: acme, sql: count })));
        later.push(rowsOf(await succeeded({ tenantId: globex, sql: count })));
      }
      const path = await succeeded({
        tenantId: acme,
        sql: "select current_setting('search_path')",
      });
      const records = await api.sessionRecords();

      // Assess
      expect(later).toEqual(Array.from({ length: 6 }, () => [acmeCount, globexCount]).flat());
      expect(rowsOf(path)[0]?.[0]).not.toBe('pg_catalog');
      const pooled = new Set(records.map((record) => record.session_id));
      for (const output of planted)
        if (output.sessionId) expect(pooled.has(output.sessionId as string)).toBe(false);
    });

    it('replaces a reused session that answers it is inside a failed transaction', async () => {
      // Prepare: the tenant's pooled session, then put in a failed transaction.
      const { tenantId } = await tenantWithTable('failed');
      const first = await succeeded({ tenantId, sql: 'select 1' });
      const sessionId = first.sessionId as string;
      await api.control('sessions/fail-transaction', { sessionId });
      const before = await invalidations();

      // Act
      const ended = await query({ tenantId, sql: 'select 2 as n' });
      const invalidated = (await invalidations()) - before;
      const records = await api.sessionRecords();

      // Assess
      expect(ended.status).toBe('SUCCEEDED');
      expect(ended.output?.rows).toEqual([[2]]);
      expect(ended.output?.sessionId).not.toBe(sessionId);
      expect(invalidated).toBe(1);
      expect(records.map((record) => record.session_id)).not.toContain(sessionId);
    });

    it('replaces a reused session whose statement, still running when Submit Query returned, ends in a failed transaction', async () => {
      // Prepare: the tenant's pooled session in a failed transaction, and its next statement held
      // STARTED, so that Submit Query's wait ends with it running and Poll Status sees it end.
      const { tenantId, table } = await tenantWithTable('polled');
      const first = await succeeded({ tenantId, sql: 'select 1' });
      const sessionId = first.sessionId as string;
      await api.control('sessions/fail-transaction', { sessionId });
      const marker = `${table}_polled`;
      await api.control('statements/hold', { sqlContains: marker });
      const before = await invalidations();

      // Act
      const arn = await api.start(randomUUID(), { tenantId, sql: `select 2 as ${marker}` });
      await untilEntered(arn, STATES.poll);
      const heldAtPoll = (await api.counters()).redshiftData.statementsHeld;
      await api.control('statements/release', { sqlContains: marker });
      const ended = await api.waitForEnd(arn, Date.now() + 60_000, 25);
      const entered = await statesEntered(arn);
      const invalidated = (await invalidations()) - before;
      const onDirtySession = await statementsOn(sessionId, marker);
      const records = await api.sessionRecords();

      // Assess
      expect(heldAtPoll).toBe(1);
      expectReplaced(ended, sessionId, onDirtySession, [[2]]);
      expect(entered.slice(0, 4)).toEqual([
        STATES.acquire,
        STATES.submit,
        STATES.queryFinished,
        STATES.poll,
      ]);
      // However many polls it took, the failed-transaction answer came to Poll Status.
      expect(entered.slice(entered.indexOf(STATES.invalidate) - 1)).toEqual([
        STATES.poll,
        STATES.invalidate,
        STATES.submit,
        STATES.queryFinished,
        STATES.release,
        STATES.fetch,
        STATES.succeeded,
      ]);
      expect(invalidated).toBe(1);
      expect(records.map((record) => record.session_id)).not.toContain(sessionId);
    });

    // Only PostgreSQL keeps a transaction open between statements: PGlite refuses BEGIN.
    if (engineName === 'PostgreSQL') {
      it('replaces a pooled session that a real failed transaction holds, and drops it from the pool', async () => {
        // Prepare: the tenant's pooled session, put in a failed transaction by a client that
        // reaches it through the Data API without Spectra's refusal of transaction control.
        const { tenantId, table } = await tenantWithTable('aborted');
        const first = await succeeded({ tenantId, sql: `insert into ${table} values (1)` });
        const sessionId = first.sessionId as string;
        const begun = await onSession(sessionId, 'begin');
        const failing = await onSession(sessionId, `insert into ${table} values (1 / 0)`);
        const before = await invalidations();

        // Act
        const ended = await query({ tenantId, sql: `select count(*) as n from ${table}` });
        const invalidated = (await invalidations()) - before;
        const onDirtySession = await statementsOn(sessionId, 'count(*)');
        const records = await api.sessionRecords();

        // Assess
        expect(begun.Status).toBe('FINISHED');
        expect(failing.Status).toBe('FAILED');
        expect(failing.Error).toMatch(/division by zero/);
        // Spectra's statement reached the dirty session first, and PostgreSQL refused it there.
        expectReplaced(ended, sessionId, onDirtySession, [[1]]);
        expect(invalidated).toBe(1);
        expect(records.map((record) => record.session_id)).not.toContain(sessionId);
      });
    }

    describe('statements', () => {
      it('commits all of a batch, with each statement and its result', async () => {
        // Prepare
        const { tenantId, table } = await tenantWithTable('batch');

        // Act
        const output = await succeeded({
          tenantId,
          statements: [
            `insert into ${table} values (1), (2)`,
            `select x from ${table} order by x`,
            `insert into ${table} values (3)`,
            `select count(*) as n from ${table}`,
          ],
        });

        // Assess
        const statements = output.statements as Record<string, unknown>[];
        expect(statements.map((s) => [s.index, s.status, s.hasResultSet, s.rowsAffected])).toEqual([
          [0, 'FINISHED', false, 2],
          [1, 'FINISHED', true, undefined],
          [2, 'FINISHED', false, 1],
          [3, 'FINISHED', true, undefined],
        ]);
        const selected = statements[1]?.result as Record<string, unknown> | undefined;
        expect(selected?.rows).toEqual([[1], [2]]);
        expect(output.rows).toEqual([[3]]);
        expect(output.columns).toEqual([{ name: 'n', type: 'int8' }]);
        expect(statements[3]?.statementId).toBe(`${output.statementId}:4`);
      });

      it('rolls all of a batch back when one statement fails, and names it', async () => {
        // Prepare
        const { tenantId, table } = await tenantWithTable('rollback');

        // Act
        const failed = await query({
          tenantId,
          statements: insertsAroundAFailure(table),
        });
        const count = await rowsCounted(tenantId, table);

        // Assess
        expect(failed.error).toBe('QueryFailedError');
        expect(failed.cause?.message).toBe('statements[1] (statement 2 of 3) failed');
        expect(String(failed.cause?.redshiftError)).toMatch(/^ERROR: division by zero/);
        expect(failed.cause?.statementIndex).toBe(1);
        expect(count).toEqual([[0]]);
      });

      it('commits each statement on its own with transaction: false', async () => {
        // Prepare
        const { tenantId, table } = await tenantWithTable('autocommit');

        // Act
        const failed = await query({
          tenantId,
          transaction: false,
          statements: insertsAroundAFailure(table),
        });
        const count = await rowsCounted(tenantId, table);

        // Assess
        expect(failed.error).toBe('QueryFailedError');
        expect(failed.cause?.statements).toEqual([
          { index: 0, status: 'FINISHED' },
          { index: 1, status: 'FAILED' },
          { index: 2, status: 'ABORTED' },
        ]);
        expect(count).toEqual([[1]]);
      });

      it("shows a batch's temporary table to its own later statements only", async () => {
        // Prepare
        const { tenantId } = await tenantWithTable('temp');

        // Act
        const batch = await succeeded({
          tenantId,
          statements: ['create temp table scratch as select 7 as n', 'select n from scratch'],
        });
        const later = await query({ tenantId, sql: 'select n from scratch' });

        // Assess
        expect(batch.rows).toEqual([[7]]);
        expect(later.status).toBe('FAILED');
        expect(later.cause?.redshiftError).toBe('ERROR: relation "scratch" does not exist');
      });

      it('binds parameters shared by the batch', async () => {
        const { tenantId, table } = await tenantWithTable('params');

        const output = await succeeded({
          tenantId,
          statements: [
            `insert into ${table} values (:a), (:b)`,
            `select sum(x) from ${table} where x >= :a`,
          ],
          parameters: [
            { name: 'a', value: '5' },
            { name: 'b', value: '6' },
          ],
        });

        expect(output.rows).toEqual([[11]]);
      });

      it.each([
        [{ statements: Array.from({ length: 41 }, () => 'select 1') }, 'got 41'],
        [{ sql: 'select 1', statements: ['select 1'] }, 'sql and statements cannot both be given'],
      ])('refuses %#: 41 statements, or sql with statements', async (fields, message) => {
        const refused = await query({ tenantId: 'acme', ...fields });

        expect(refused.error).toBe('InvalidInputError');
        expect(String(refused.cause?.message)).toContain(message);
      });
    });
  });
}
