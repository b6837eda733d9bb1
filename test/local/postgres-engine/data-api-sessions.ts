import {
  CancelStatementCommand,
  DescribeStatementCommand,
  type DescribeStatementResponse,
  ExecuteStatementCommand,
  type ExecuteStatementCommandInput,
  type ExecuteStatementCommandOutput,
  GetStatementResultCommand,
  ListSessionsCommand,
  type RedshiftDataClient,
} from '@aws-sdk/client-redshift-data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresEngine } from '../../../local/redshift-data/postgres-engine.ts';
import type { SqlEngine } from '../../../local/redshift-data/sql-engine.ts';
import { CONNECTION, type DataApiStack, fieldValue, startDataApiStack } from '../data-api-suite.ts';
import { closeGate, until } from './context.ts';

/**
 * What the Data API gives only when each session is a connection of its own, as on Redshift
 * (the PGlite engine shares one backend, so these are not in the shared suite).
 */
export function describeRealDataApiSessions(serverUrl: () => string): void {
  describe('Redshift Data API emulator on PostgreSQL: real sessions', () => {
    let engine: SqlEngine;
    let stack: DataApiStack;
    let client: RedshiftDataClient;

    beforeAll(async () => {
      engine = await createPostgresEngine(serverUrl());
      stack = await startDataApiStack(engine, { loadDemoData: false });
      client = stack.client;
    });

    afterAll(async () => {
      await stack?.close();
      await engine?.close();
    });

    /** ExecuteStatement on the local warehouse, opening a session, waiting up to 20 s for the end. */
    function openSession(sql: string): Promise<ExecuteStatementCommandOutput> {
      return client.send(
        new ExecuteStatementCommand({
          ...CONNECTION,
          Sql: sql,
          SessionKeepAliveSeconds: 600,
          WaitTimeSeconds: 20,
        } as ExecuteStatementCommandInput),
      );
    }

    function runInSession(
      sessionId: string | undefined,
      sql: string,
      waitTimeSeconds?: number,
    ): Promise<ExecuteStatementCommandOutput> {
      return client.send(
        new ExecuteStatementCommand({
          Sql: sql,
          SessionId: sessionId,
          WaitTimeSeconds: waitTimeSeconds,
        }),
      );
    }

    /** DescribeStatement once the statement has ended (long polls on the server). */
    async function ended(id: string | undefined): Promise<DescribeStatementResponse> {
      for (;;) {
        const described = await client.send(
          new DescribeStatementCommand({ Id: id, WaitTimeSeconds: 30 }),
        );
        if (['FINISHED', 'FAILED', 'ABORTED'].includes(described.Status ?? '')) return described;
      }
    }

    async function rowsOf(id: string | undefined): Promise<unknown[][]> {
      const result = await client.send(new GetStatementResultCommand({ Id: id }));
      return (result.Records ?? []).map((record) => record.map(fieldValue));
    }

    it('keeps a temporary table inside the Data API session that created it', async () => {
      // Prepare
      const first = await openSession('create temp table session_scratch as select 7 as x');

      // Act
      const own = await runInSession(first.SessionId, 'select x from session_scratch', 20);
      const second = await openSession('select x from session_scratch');
      const secondDescribed = await ended(second.Id);

      // Assess: the same DbUser in another session does not see it.
      expect(first.Status).toBe('FINISHED');
      expect(own.Status).toBe('FINISHED');
      expect(await rowsOf(own.Id)).toEqual([[7]]);
      expect(second.SessionId).not.toBe(first.SessionId);
      expect(secondDescribed.Status).toBe('FAILED');
      expect(secondDescribed.Error).toBe('ERROR: relation "session_scratch" does not exist');
    });

    it('stops the statement in PostgreSQL on CancelStatement and frees its session', async () => {
      // Prepare: long enough that only a real cancel lets the test end in time.
      const opened = await openSession('select 1');
      const sleeping = await runInSession(opened.SessionId, 'select pg_sleep(300)');
      const pid = String(opened.RedshiftPid);
      await until(async () => {
        const activity = await engine.admin(
          "SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND state = 'active' AND query LIKE '%pg_sleep(300)%'",
          [pid],
        );
        return activity.rows.length > 0;
      });

      // Act
      const cancelled = await client.send(new CancelStatementCommand({ Id: sleeping.Id }));
      const described = await client.send(new DescribeStatementCommand({ Id: sleeping.Id }));

      // Assess
      expect(cancelled.Status).toBe(true);
      expect(described.Status).toBe('ABORTED');
      // The backend stopped sleeping, and the session takes the next statement.
      await until(async () => {
        const sessions = await client.send(
          new ListSessionsCommand({ SessionId: opened.SessionId }),
        );
        return sessions.Sessions?.[0]?.Status === 'AVAILABLE';
      });
      const backend = await engine.admin('SELECT state FROM pg_stat_activity WHERE pid = $1', [
        pid,
      ]);
      expect(backend.rows).toEqual([['idle']]);
      const next = await runInSession(opened.SessionId, 'select 2', 20);
      expect(next.Status).toBe('FINISHED');
      expect(await rowsOf(next.Id)).toEqual([[2]]);
    });

    it('runs statements of two sessions at the same time', async () => {
      // Prepare: both wait for a lock the test holds, so both run until it lets them go on
      const [first, second] = await Promise.all([openSession('select 1'), openSession('select 1')]);
      const gate = await closeGate(engine);
      const gated = `select extract(epoch from statement_timestamp())::text as started,
          extract(epoch from clock_timestamp())::text as ended
        from (select ${gate.waitSql} offset 0) as waited`;

      // Act
      const both = Promise.all([
        runInSession(first.SessionId, gated, 20),
        runInSession(second.SessionId, gated, 20),
      ]);
      await gate.untilWaiting([first.RedshiftPid as number, second.RedshiftPid as number]);
      await gate.open();
      const [a, b] = await both;
      const [[aStarted, aEnded] = []] = (await rowsOf(a.Id)).map((row) => row.map(Number));
      const [[bStarted, bEnded] = []] = (await rowsOf(b.Id)).map((row) => row.map(Number));

      // Assess: each began before the other ended, timed by PostgreSQL itself.
      expect(first.RedshiftPid).not.toBe(second.RedshiftPid);
      expect(aStarted).toBeLessThan(bEnded ?? Number.NaN);
      expect(bStarted).toBeLessThan(aEnded ?? Number.NaN);
    });
  });
}
