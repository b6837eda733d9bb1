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
import { createPostgresEngine } from '../../local/redshift-data/postgres-engine.ts';
import type { EngineConnection, SqlEngine } from '../../local/redshift-data/sql-engine.ts';
import { useThrowawayPostgres } from '../support/postgres.ts';
import {
  CONNECTION,
  type DataApiStack,
  describeDataApiSuite,
  fieldValue,
  startDataApiStack,
} from './data-api-suite.ts';
import { describeEngineContract, engineError } from './sql-engine-suite.ts';

/**
 * The PostgreSQL engine, the shared Data API suite on it, and what only real per-session
 * connections give. One file on purpose, though long: the three share the one throwaway
 * PostgreSQL server the file starts, which takes seconds.
 */

const serverUrl = useThrowawayPostgres();

/** Polls until `check` holds; the statement it waits for runs on another connection. */
async function until(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 20));
}

/**
 * An advisory lock the test holds on the engine's admin connection: statements that take it
 * (`waitSql`) wait inside the server until `open()`, so they overlap however slow the machine is.
 */
async function closeGate(engine: SqlEngine) {
  const key = 81_002;
  await engine.admin(`SELECT pg_advisory_lock(${key})`);
  return {
    waitSql: `pg_advisory_xact_lock_shared(${key})`,
    /** Waits until every backend in `pids` waits for the lock. */
    untilWaiting: (pids: number[]) =>
      until(async () => {
        const waiting = await engine.admin(
          "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY ($1::int[]) AND wait_event_type = 'Lock'",
          [`{${pids.join(',')}}`],
        );
        return Number(waiting.rows[0]?.[0]) === pids.length;
      }),
    open: () => engine.admin(`SELECT pg_advisory_unlock(${key})`),
  };
}

describe('Engine: PostgreSQL', () => {
  let engine: SqlEngine;
  const connections: EngineConnection[] = [];

  /** A connection as a user made for it, that afterAll closes. */
  async function connect(dbUser: string): Promise<EngineConnection> {
    await engine.createUser(dbUser);
    const connection = await engine.connect(dbUser);
    connections.push(connection);
    return connection;
  }

  beforeAll(async () => {
    engine = await createPostgresEngine(serverUrl());
  });

  afterAll(async () => {
    await Promise.all(connections.map((connection) => connection.close()));
    await engine?.close();
  });

  describeEngineContract(
    () => engine,
    () => connect('alice'),
  );

  describe('Method: connect', () => {
    it('logs in as the user itself, so the session user is the tenant', async () => {
      // Act
      const alice = await connect('alice');
      const session = await alice.run(
        'SELECT session_user, current_user, rolsuper FROM pg_roles WHERE rolname = session_user',
        [],
      );
      const backend = await engine.admin('SELECT usename FROM pg_stat_activity WHERE pid = $1', [
        String(alice.backendPid),
      ]);

      // Assess
      expect(session.rows).toEqual([['alice', 'alice', 'f']]);
      expect(backend.rows).toEqual([['alice']]);
    });

    it('grants a new user only what PUBLIC has: no table of another user', async () => {
      // Prepare
      await engine.admin('CREATE TABLE demo_venue (venueid int, venuename text)');
      await engine.admin("INSERT INTO demo_venue VALUES (1, 'Hall')");
      await engine.admin('CREATE TABLE demo_private (secret text)');
      await engine.admin('GRANT SELECT ON demo_venue TO PUBLIC');

      // Act
      const carol = await connect('carol');
      const shared = await carol.run('SELECT venuename FROM demo_venue', []);
      const refused = await engineError(carol.run('SELECT secret FROM demo_private', []));

      // Assess
      expect(shared.rows).toEqual([['Hall']]);
      expect(refused.message).toBe('ERROR: permission denied for table demo_private');
    });

    it('refuses to log in as a user that does not exist, and never creates one', async () => {
      // Act
      const error = await engineError(engine.connect('frank'));
      const role = await engine.admin('SELECT 1 FROM pg_roles WHERE rolname = $1', ['frank']);

      // Assess
      expect(error.message).toBe('FATAL: role "frank" does not exist');
      expect(error.sqlState).toBe('28000');
      expect(role.rows).toEqual([]);
    });

    it('says whether createUser created the user', async () => {
      // Act
      const first = await engine.createUser('grace');
      const second = await engine.createUser('grace');

      // Assess
      expect([first, second]).toEqual([true, false]);
    });

    it('lets the user create tables in public', async () => {
      // Prepare
      const carol = await connect('carol');

      // Act
      await carol.run('CREATE TABLE carol_notes (note text)', []);
      const owner = await engine.admin(
        "SELECT tableowner FROM pg_tables WHERE schemaname = 'public' AND tablename = 'carol_notes'",
      );

      // Assess
      expect(owner.rows).toEqual([['carol']]);
    });

    it('creates the same role from parallel createUser calls on separate engines', async () => {
      // Prepare: separate engines have separate admin connections, so their CREATE ROLE and
      // GRANT statements really run at the same time.
      const engines = await Promise.all(
        Array.from({ length: 4 }, () => createPostgresEngine(serverUrl())),
      );

      try {
        // Act
        await Promise.all(engines.map((each) => each.createUser('dave')));
        const parallel = await Promise.all(engines.map((each) => each.connect('dave')));
        const users = await Promise.all(
          parallel.map((connection) => connection.run('SELECT session_user', [])),
        );

        // Assess
        expect(users.map((result) => result.rows)).toEqual(Array(4).fill([['dave']]));
      } finally {
        await Promise.all(engines.map((each) => each.close()));
      }
    });

    it.each([
      ['an upper-case letter', 'Alice'],
      ['a leading digit', '1alice'],
      ['a double quote', 'al"ice'],
      ['a semicolon', 'alice;drop'],
      ['a hyphen', 'alice-b'],
      ['nothing', ''],
      ['128 characters', 'a'.repeat(128)],
    ])('throws EngineError for a user name with %s', async (_case, dbUser) => {
      // Act
      const error = await engineError(engine.connect(dbUser));
      const creating = await engineError(engine.createUser(dbUser));

      // Assess
      expect(error.message).toMatch(/^ERROR: invalid user name/);
      expect(creating.message).toMatch(/^ERROR: invalid user name/);
      const role = await engine.admin('SELECT 1 FROM pg_roles WHERE rolname = $1', [dbUser]);
      expect(role.rows).toEqual([]);
    });

    it('accepts the characters Redshift user names may have', async () => {
      // Act
      const connection = await connect('_etl$job_2');
      const result = await connection.run('SELECT session_user', []);

      // Assess
      expect(result.rows).toEqual([['_etl$job_2']]);
    });
  });

  describe('Sessions', () => {
    it('runs two users’ statements at the same time', async () => {
      // Prepare: both wait for a lock the test holds, so both run until it lets them go on.
      // statement_timestamp() is when the statement began; clock_timestamp() is read after the
      // wait, which OFFSET 0 makes a subquery of its own that runs first.
      const [alice, bob] = await Promise.all([connect('alice'), connect('bob')]);
      const gate = await closeGate(engine);
      const gated = `SELECT extract(epoch FROM statement_timestamp()) AS started,
          extract(epoch FROM clock_timestamp()) AS ended
        FROM (SELECT ${gate.waitSql} OFFSET 0) AS waited`;

      // Act
      const both = Promise.all([alice.run(gated, []), bob.run(gated, [])]);
      await gate.untilWaiting([alice.backendPid, bob.backendPid]);
      await gate.open();
      const [a, b] = await both;

      // Assess: each began before the other ended, so they overlapped.
      const [aStarted, aEnded] = (a.rows[0] ?? []).map(Number);
      const [bStarted, bEnded] = (b.rows[0] ?? []).map(Number);
      expect(aStarted).toBeLessThan(bEnded ?? Number.NaN);
      expect(bStarted).toBeLessThan(aEnded ?? Number.NaN);
    });

    it('keeps a temporary table inside the connection that created it', async () => {
      // Prepare: the same user twice, so only the session separates them.
      const first = await connect('alice');
      const second = await connect('alice');
      await first.run('CREATE TEMP TABLE scratch (x int)', []);
      await first.run('INSERT INTO scratch VALUES (1)', []);

      // Act
      const own = await first.run('SELECT x FROM scratch', []);
      const error = await engineError(second.run('SELECT x FROM scratch', []));

      // Assess
      expect(own.rows).toEqual([['1']]);
      expect(error.sqlState).toBe('42P01');
      expect(error.message).toBe('ERROR: relation "scratch" does not exist');
    });

    it('keeps SET inside the connection', async () => {
      // Prepare
      const first = await connect('alice');
      const second = await connect('alice');

      // Act
      await first.run("SET search_path TO 'pg_catalog'", []);
      const own = await first.run('SHOW search_path', []);
      const other = await second.run('SHOW search_path', []);

      // Assess
      expect(own.rows).toEqual([['pg_catalog']]);
      expect(other.rows).toEqual([['"$user", public']]);
    });
  });

  describe('Method: cancel', () => {
    it('stops a running statement, which then fails with SQLSTATE 57014', async () => {
      // Prepare
      const alice = await connect('alice');
      const running = alice.run('SELECT pg_sleep(30)', []);
      // Attach the handler now; the rejection arrives only after the cancel below.
      const rejected = engineError(running);
      await until(async () => {
        const activity = await engine.admin(
          "SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND state = 'active' AND query LIKE '%pg_sleep%'",
          [String(alice.backendPid)],
        );
        return activity.rows.length > 0;
      });

      // Act
      const cancelled = await alice.cancel();
      const error = await rejected;

      // Assess
      expect(cancelled).toBe(true);
      expect(error.sqlState).toBe('57014');
      expect(error.message).toBe('ERROR: canceling statement due to user request');
      const after = await alice.run('SELECT 1', []);
      expect(after.rows).toEqual([['1']]);
    });

    it('answers false for a closed connection, whose pid may be another session’s by now', async () => {
      // Prepare
      await engine.createUser('alice');
      const closing = await engine.connect('alice');
      await closing.close();

      // Act
      const cancelled = await closing.cancel();

      // Assess
      expect(cancelled).toBe(false);
    });
  });

  describe('Security', () => {
    beforeAll(async () => {
      // Roles first: the table is made after them, so the grant below is the only one it gets.
      await Promise.all([connect('alice'), connect('bob')]);
      await engine.admin(`
        CREATE TABLE tenant_orders (tenant text, amount int);
        INSERT INTO tenant_orders VALUES ('alice', 10), ('alice', 20), ('bob', 30);
        ALTER TABLE tenant_orders ENABLE ROW LEVEL SECURITY;
        CREATE POLICY own_orders ON tenant_orders USING (tenant = current_user);
        GRANT SELECT ON tenant_orders TO PUBLIC;
        CREATE TABLE payroll (salary int);
        INSERT INTO payroll VALUES (1);
      `);
    });

    it('applies row-level security to the tenant', async () => {
      // Prepare
      const [alice, bob] = await Promise.all([connect('alice'), connect('bob')]);

      // Act
      const aliceRows = await alice.run('SELECT tenant, amount FROM tenant_orders ORDER BY 2', []);
      const bobRows = await bob.run('SELECT tenant, amount FROM tenant_orders ORDER BY 2', []);
      const allRows = await engine.admin('SELECT count(*) FROM tenant_orders');

      // Assess: the superuser bypasses the policy and sees every row.
      expect(aliceRows.rows).toEqual([
        ['alice', '10'],
        ['alice', '20'],
      ]);
      expect(bobRows.rows).toEqual([['bob', '30']]);
      expect(allRows.rows).toEqual([['3']]);
    });

    it('denies a table the tenant was not granted', async () => {
      // Prepare
      const alice = await connect('alice');

      // Act
      const error = await engineError(alice.run('SELECT salary FROM payroll', []));

      // Assess
      expect(error.sqlState).toBe('42501');
      expect(error.message).toBe('ERROR: permission denied for table payroll');
    });

    it('stays the tenant after RESET ROLE', async () => {
      // Prepare
      const alice = await connect('alice');

      // Act
      await alice.run('RESET ROLE', []);
      const who = await alice.run('SELECT current_user, session_user', []);
      const error = await engineError(alice.run('SELECT salary FROM payroll', []));

      // Assess
      expect(who.rows).toEqual([['alice', 'alice']]);
      expect(error.sqlState).toBe('42501');
    });

    it.each(['SET ROLE postgres', 'SET SESSION AUTHORIZATION postgres'])(
      'throws a permission error for %s',
      async (escapeAttempt) => {
        // Prepare
        const alice = await connect('alice');

        // Act
        const error = await engineError(alice.run(escapeAttempt, []));
        const who = await alice.run('SELECT current_user, session_user', []);

        // Assess
        expect(error.sqlState).toBe('42501');
        expect(who.rows).toEqual([['alice', 'alice']]);
      },
    );
  });

  describe('Method: run', () => {
    it('reports a result set with zero rows', async () => {
      // Prepare
      const alice = await connect('alice');

      // Act
      const result = await alice.run('SELECT 1 AS one WHERE false', []);

      // Assess
      expect(result).toEqual({
        columns: [{ name: 'one', typeOid: 23, tableOid: 0 }],
        rows: [],
        rowCount: 0,
        command: 'SELECT',
        hasResultSet: true,
      });
    });

    it('reports rows affected from the command tag and -1 for DDL', async () => {
      // Prepare
      const alice = await connect('alice');

      // Act
      const created = await alice.run('CREATE TEMP TABLE counted (x int)', []);
      const inserted = await alice.run('INSERT INTO counted VALUES (1), (2), (3)', []);
      const updated = await alice.run('UPDATE counted SET x = x + 1 WHERE x > 1', []);

      // Assess
      expect(created).toEqual({
        columns: [],
        rows: [],
        rowCount: -1,
        command: 'CREATE',
        hasResultSet: false,
      });
      expect(inserted).toMatchObject({ rowCount: 3, command: 'INSERT', hasResultSet: false });
      expect(updated).toMatchObject({ rowCount: 2, command: 'UPDATE', hasResultSet: false });
    });
  });

  describe('Method: runScript', () => {
    it('runs several statements in the session', async () => {
      // Prepare
      const alice = await connect('alice');

      // Act
      await alice.runScript?.(
        'CREATE TEMP TABLE batch (x int); INSERT INTO batch VALUES (1), (2); UPDATE batch SET x = x * 10',
      );
      const result = await alice.run('SELECT sum(x) FROM batch', []);

      // Assess
      expect(result.rows).toEqual([['30']]);
    });

    it('throws EngineError for a failing statement in the script', async () => {
      // Prepare
      const alice = await connect('alice');

      // Act
      const error = await engineError(
        alice.runScript?.('SELECT 1; SELECT * FROM no_such_table') ?? Promise.resolve(),
      );

      // Assess
      expect(error.sqlState).toBe('42P01');
    });
  });

  describe('Function: createPostgresEngine', () => {
    it('loads the Redshift shims, so Redshift functions work for tenants', async () => {
      // Prepare
      const alice = await connect('alice');

      // Act
      const result = await alice.run(
        "SELECT nvl(NULL::int, 3), dateadd('day', 1, TIMESTAMP '2024-02-28 10:00'), getdate(), current_setting('TimeZone')",
        [],
      );

      // Assess
      expect(result.columns.map((column) => column.typeOid)).toEqual([23, 1114, 1114, 25]);
      expect(result.rows[0]?.slice(0, 2)).toEqual(['3', '2024-02-29 10:00:00']);
      expect(result.rows[0]?.[3]).toBe('UTC');
    });

    it('throws EngineError when the server cannot be reached', async () => {
      // Prepare: port 1 is privileged and never a PostgreSQL server here.
      const unreachable = 'postgres://postgres@127.0.0.1:1/postgres';

      // Act
      const error = await engineError(createPostgresEngine(unreachable));

      // Assess
      expect(error.message).toMatch(/^ERROR: connect ECONNREFUSED/);
    });
  });

  describe('Method: close', () => {
    it('ends every connection the engine opened', async () => {
      // Prepare
      const own = await createPostgresEngine(serverUrl());
      await own.createUser('erin');
      const connection = await own.connect('erin');
      const pid = String(connection.backendPid);

      // Act
      await own.close();

      // Assess
      await engineError(connection.run('SELECT 1', []));
      // The backend exits shortly after the client says goodbye.
      await until(async () => {
        const left = await engine.admin('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid]);
        return left.rows.length === 0;
      });
    });

    it('throws EngineError for a connect after close', async () => {
      // Prepare
      const own = await createPostgresEngine(serverUrl());
      await own.close();

      // Act
      const error = await engineError(own.connect('erin'));

      // Assess
      expect(error.message).toBe('ERROR: the engine is closed');
    });
  });
});

describeDataApiSuite('PostgreSQL', () => createPostgresEngine(serverUrl()));

/**
 * What the Data API gives only when each session is a connection of its own, as on Redshift
 * (the PGlite engine shares one backend, so these are not in the shared suite).
 */
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
      const sessions = await client.send(new ListSessionsCommand({ SessionId: opened.SessionId }));
      return sessions.Sessions?.[0]?.Status === 'AVAILABLE';
    });
    const backend = await engine.admin('SELECT state FROM pg_stat_activity WHERE pid = $1', [pid]);
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
