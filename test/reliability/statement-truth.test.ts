import { randomUUID } from 'node:crypto';
import {
  CancelStatementCommand,
  DescribeStatementCommand,
  type ExecuteStatementCommandInput,
  GetStatementResultCommand,
  ListSessionsCommand,
} from '@aws-sdk/client-redshift-data';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type PostgresServer, startPostgres } from '../../local/postgres-cluster.ts';
import { createPgliteEngine } from '../../local/redshift-data/pglite-engine.ts';
import { createPostgresEngine } from '../../local/redshift-data/postgres-engine.ts';
import type { SqlEngine } from '../../local/redshift-data/sql-engine.ts';
import {
  CONNECTION,
  type DataApiStack,
  endedOn,
  executeOn,
  rejectionOf,
  startDataApiStack,
} from '../local/data-api-suite.ts';

/**
 * What the Data API emulator reports about a statement must match what it left in the data: a
 * statement stopped while the engine runs it (cancelled, or its session closed) is ABORTED or
 * FAILED and leaves no row, on PGlite (which cannot stop a running statement) as on PostgreSQL.
 *
 * The INSERT runs until the test lets it go on, however slow the machine: on PostgreSQL it waits,
 * inside the server, for an advisory lock the test holds. PGlite runs one statement at a time in
 * one backend, so nothing outside a running statement can hold it; there the emulator holds the
 * INSERT once PGlite has run it and before it commits (a hold at RAN), where a stop is answered
 * as one that comes while PGlite runs the statement.
 *
 * A statement that has committed is FINISHED, whatever stop comes after: the emulator holds it
 * between its commit and its status (a hold at COMMITTED) on both engines, and on PostgreSQL a
 * trigger the COMMIT runs waits, inside the server, for a second lock the test holds: a COMMIT
 * that takes long, past the point a cancel can reach.
 */

const pause = () => new Promise((resolve) => setTimeout(resolve, 10));
/** The advisory lock the PostgreSQL INSERT waits for. */
const GATE_LOCK = 81_001;
/** What the SQL of the INSERT the PGlite emulator holds contains. */
const GATE_MARKER = `truth-gate-${randomUUID()}`;
/** The advisory lock the PostgreSQL COMMIT of an id with {@link COMMIT_GATE_PREFIX} waits for. */
const COMMIT_GATE_LOCK = 81_002;
const COMMIT_GATE_PREFIX = 'commit-gate-';
/** What the SQL of an INSERT the emulator holds once it has committed contains. */
const COMMITTED_MARKER = `truth-committed-${randomUUID()}`;

describe.each([
  ['PGlite', async () => ({ engine: await createPgliteEngine(), server: undefined })],
  [
    'PostgreSQL',
    async () => {
      const server = await startPostgres();
      return { engine: await createPostgresEngine(server.url), server };
    },
  ],
] as const)('Reliability: statement status matches the data on %s', (engineName, start) => {
  let engine: SqlEngine;
  let server: PostgresServer | undefined;
  let stack: DataApiStack;
  const table = `truth_${randomUUID().slice(0, 8)}`;

  const gated = () => engine.kind === 'postgres';
  /** An INSERT of `:id` that runs until the gate opens. */
  const slowInsertSql = () =>
    gated()
      ? `insert into ${table} (id) select :id from (select pg_advisory_xact_lock_shared(${GATE_LOCK})) as gate`
      : `insert into ${table} (id) select :id -- ${GATE_MARKER}`;

  let gateClosed = false;
  let commitGateClosed = false;

  /** Makes the COMMIT of the next INSERT of an id with {@link COMMIT_GATE_PREFIX} wait. */
  async function closeCommitGate(): Promise<void> {
    await engine.admin(`select pg_advisory_lock(${COMMIT_GATE_LOCK})`);
    commitGateClosed = true;
  }

  async function openCommitGate(): Promise<void> {
    if (!commitGateClosed) return;
    await engine.admin(`select pg_advisory_unlock(${COMMIT_GATE_LOCK})`);
    commitGateClosed = false;
  }

  async function closeGate(): Promise<void> {
    if (gateClosed) return;
    if (gated()) await engine.admin(`select pg_advisory_lock(${GATE_LOCK})`);
    else stack.emulator.controls.holdStatements(GATE_MARKER, 'RAN');
    gateClosed = true;
  }

  async function openGate(): Promise<void> {
    if (!gateClosed) return;
    if (gated()) await engine.admin(`select pg_advisory_unlock(${GATE_LOCK})`);
    else stack.emulator.controls.releaseStatements(GATE_MARKER);
    gateClosed = false;
  }

  /**
   * Waits until the INSERT is at the gate: on PostgreSQL, until `pid`'s backend shows `check` in
   * pg_stat_activity; on PGlite, until the emulator holds it.
   */
  async function untilBackend(pid: number, check: string): Promise<void> {
    if (!gated()) {
      while (stack.emulator.controls.stats().statementsHeld < 1) await pause();
      return;
    }
    for (;;) {
      const found = await engine.admin(
        `select 1 from pg_stat_activity where pid = $1 and ${check}`,
        [String(pid)],
      );
      if (found.rows.length > 0) return;
      await pause();
    }
  }

  const run = (input: Partial<ExecuteStatementCommandInput>) => executeOn(stack.client, input);
  const ended = (id: string) => endedOn(stack.client, id);

  /** Waits until the engine runs the statement: STARTED, and waiting at the gate. */
  async function untilRunning(id: string): Promise<void> {
    for (;;) {
      const described = await stack.client.send(new DescribeStatementCommand({ Id: id }));
      if (described.Status === 'STARTED') {
        await untilBackend(described.RedshiftPid ?? 0, `wait_event_type = 'Lock'`);
        return;
      }
      await pause();
    }
  }

  /**
   * Waits until the engine is done with the session's statement: the session takes statements
   * again (or is closed), and on PostgreSQL its backend runs nothing. A statement that would still
   * commit has then committed.
   */
  async function untilEngineDone(sessionId: string, pid: number): Promise<void> {
    for (;;) {
      const listed = await stack.client.send(new ListSessionsCommand({ SessionId: sessionId }));
      if (listed.Sessions?.[0]?.Status !== 'BUSY') break;
      await pause();
    }
    if (gated()) {
      for (;;) {
        const active = await engine.admin(
          `select 1 from pg_stat_activity where pid = $1 and state = 'active'`,
          [String(pid)],
        );
        if (active.rows.length === 0) return;
        await pause();
      }
    }
  }

  async function rows(id: string): Promise<number> {
    const count = await run({
      ...CONNECTION,
      Sql: `select count(*) from ${table} where id = :id`,
      Parameters: [{ name: 'id', value: id }],
      WaitTimeSeconds: 20,
    });
    const result = await stack.client.send(new GetStatementResultCommand({ Id: count.Id }));
    return Number(result.Records?.[0]?.[0]?.longValue);
  }

  /** A session with a slow INSERT of `id` running on it, in a transaction of its own or in `begin`'s. */
  async function slowInsertOnSession(id: string, options: { begin?: boolean } = {}) {
    const opened = await run({ ...CONNECTION, SessionKeepAliveSeconds: 60, WaitTimeSeconds: 20 });
    if (options.begin) {
      const begin = await run({ SessionId: opened.SessionId, Sql: 'begin', WaitTimeSeconds: 20 });
      expect((await ended(begin.Id as string)).Status).toBe('FINISHED');
    }
    await closeGate();
    const insert = await run({
      SessionId: opened.SessionId,
      Sql: slowInsertSql(),
      Parameters: [{ name: 'id', value: id }],
    });
    await untilRunning(insert.Id as string);
    return {
      sessionId: opened.SessionId as string,
      pid: opened.RedshiftPid as number,
      statementId: insert.Id as string,
    };
  }

  /** A session with an INSERT of `id` on it, `sql` (default a plain INSERT) written around it. */
  async function insertOnSession(id: string, sql = (text: string) => text) {
    const opened = await run({ ...CONNECTION, SessionKeepAliveSeconds: 60, WaitTimeSeconds: 20 });
    const insert = await run({
      SessionId: opened.SessionId,
      Sql: sql(`insert into ${table} (id) values (:id)`),
      Parameters: [{ name: 'id', value: id }],
    });
    return {
      sessionId: opened.SessionId as string,
      pid: opened.RedshiftPid as number,
      statementId: insert.Id as string,
    };
  }

  beforeAll(async () => {
    ({ engine, server } = await start());
    stack = await startDataApiStack(engine);
    const created = await run({
      ...CONNECTION,
      Sql: `create table ${table} (id varchar(64))`,
      WaitTimeSeconds: 20,
    });
    expect((await ended(created.Id as string)).Status).toBe('FINISHED');
    if (gated()) {
      // Runs in the COMMIT (a deferred trigger); a cancel does not stop its wait, as none stops a
      // commit past a certain point.
      await engine.admin(`
        create function ${table}_commit_gate() returns trigger language plpgsql as $$
        begin
          loop
            begin
              perform pg_advisory_xact_lock_shared(${COMMIT_GATE_LOCK});
              return null;
            exception when query_canceled then
              null;
            end;
          end loop;
        end $$;
        create constraint trigger ${table}_commit_gate after insert on ${table}
          deferrable initially deferred for each row
          when (new.id like '${COMMIT_GATE_PREFIX}%') execute function ${table}_commit_gate();`);
    }
  }, 120_000);

  afterEach(async () => {
    await openGate();
    if (gated()) await openCommitGate();
    stack.emulator.controls.releaseStatements(COMMITTED_MARKER);
  });

  afterAll(async () => {
    await stack?.close();
    await engine?.close();
    await server?.stop();
  });

  it('commits an INSERT nobody stops, and reports it FINISHED', async () => {
    const id = randomUUID();
    const { statementId } = await slowInsertOnSession(id);
    await openGate();

    expect((await ended(statementId)).Status).toBe('FINISHED');
    expect(await rows(id)).toBe(1);
  });

  it('reports an INSERT cancelled while it runs ABORTED, and leaves no row', async () => {
    // Prepare
    const id = randomUUID();
    const { sessionId, pid, statementId } = await slowInsertOnSession(id);

    // Act
    const cancelled = await stack.client.send(new CancelStatementCommand({ Id: statementId }));

    // Assess: a statement the engine cannot interrupt (PGlite) ends once the engine is done
    await openGate();
    expect(cancelled.Status).toBe(true);
    expect((await ended(statementId)).Status).toBe('ABORTED');
    await untilEngineDone(sessionId, pid);
    expect(await rows(id)).toBe(0);
  });

  it('reports an INSERT whose session closes while it runs FAILED, and leaves no row', async () => {
    // Prepare
    const id = randomUUID();
    const { sessionId, pid, statementId } = await slowInsertOnSession(id);

    // Act
    stack.emulator.controls.expireSession(sessionId);

    // Assess: a statement the engine cannot interrupt (PGlite) ends once the engine is done
    await openGate();
    const described = await ended(statementId);
    expect(described.Status).toBe('FAILED');
    expect(described.Error).toMatch(/was closed/);
    await untilEngineDone(sessionId, pid);
    expect(await rows(id)).toBe(0);
  });

  describe('once the INSERT has committed, before its status says so', () => {
    async function committedInsertOnSession(id: string) {
      stack.emulator.controls.holdStatements(COMMITTED_MARKER, 'COMMITTED');
      const inserted = await insertOnSession(id, (sql) => `${sql} -- ${COMMITTED_MARKER}`);
      while (stack.emulator.controls.stats().statementsHeld < 1) await pause();
      return inserted;
    }

    it('refuses a cancel, and reports the INSERT FINISHED with its row', async () => {
      // Prepare
      const id = randomUUID();
      const { statementId } = await committedInsertOnSession(id);

      // Act
      const refused = await rejectionOf(
        stack.client.send(new CancelStatementCommand({ Id: statementId })),
      );

      // Assess
      expect(refused.name).toBe('ValidationException');
      expect(refused.message).toBe(
        `Could not cancel a query that is already committing with ID: ${statementId}`,
      );
      stack.emulator.controls.releaseStatements(COMMITTED_MARKER);
      expect((await ended(statementId)).Status).toBe('FINISHED');
      expect(await rows(id)).toBe(1);
    });

    it('reports the INSERT FINISHED with its row when its session closes', async () => {
      // Prepare
      const id = randomUUID();
      const { sessionId, pid, statementId } = await committedInsertOnSession(id);

      // Act
      stack.emulator.controls.expireSession(sessionId);

      // Assess
      stack.emulator.controls.releaseStatements(COMMITTED_MARKER);
      expect((await ended(statementId)).Status).toBe('FINISHED');
      await untilEngineDone(sessionId, pid);
      expect(await rows(id)).toBe(1);
    });
  });

  // Only PostgreSQL keeps a caller's transaction open between statements: PGlite refuses BEGIN.
  if (engineName === 'PostgreSQL') {
    it.each([
      ['its session closes', false],
      ['it is cancelled and its session closes', true],
    ])(
      'reports an INSERT FINISHED with its row when %s while its COMMIT runs',
      async (_, cancel) => {
        // Prepare: the COMMIT waits in the server; the session's connection must outlast it
        const id = `${COMMIT_GATE_PREFIX}${randomUUID()}`;
        await closeCommitGate();
        const { sessionId, pid, statementId } = await insertOnSession(id);
        await untilBackend(pid, `wait_event_type = 'Lock' and query = 'COMMIT'`);

        // Act
        const cancelled = cancel
          ? await rejectionOf(stack.client.send(new CancelStatementCommand({ Id: statementId })))
          : undefined;
        stack.emulator.controls.expireSession(sessionId);
        // What the close sends the server goes first: the gate's unlock queues behind it on the
        // engine's one admin connection.
        await pause();
        await openCommitGate();

        // Assess
        expect(cancelled?.name).toBe(cancel ? 'ValidationException' : undefined);
        expect((await ended(statementId)).Status).toBe('FINISHED');
        await untilEngineDone(sessionId, pid);
        expect(await rows(id)).toBe(1);
      },
    );

    it("fails the caller's transaction when a statement in it is cancelled, as a server does", async () => {
      // Prepare
      const id = randomUUID();
      const { sessionId, pid, statementId } = await slowInsertOnSession(id, { begin: true });
      const session = { SessionId: sessionId, WaitTimeSeconds: 20 };

      // Act
      await stack.client.send(new CancelStatementCommand({ Id: statementId }));
      await openGate();
      await untilEngineDone(sessionId, pid);
      const next = await ended((await run({ ...session, Sql: 'select 1' })).Id as string);
      const commit = await ended((await run({ ...session, Sql: 'commit' })).Id as string);

      // Assess
      expect((await ended(statementId)).Status).toBe('ABORTED');
      expect(next.Status).toBe('FAILED');
      expect(next.Error).toMatch(/current transaction is aborted/);
      expect(commit.Status).toBe('FINISHED');
      expect(await rows(id)).toBe(0);
    });
  }
});
