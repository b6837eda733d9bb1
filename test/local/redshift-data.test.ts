import { randomUUID } from 'node:crypto';
import {
  CancelStatementCommand,
  DescribeStatementCommand,
  type ExecuteStatementCommandInput,
  GetStatementResultCommand,
  ValidationException,
} from '@aws-sdk/client-redshift-data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgliteEngine } from '../../local/redshift-data/pglite-engine.ts';
import type { SqlEngine } from '../../local/redshift-data/sql-engine.ts';
import { demoUserOf } from './data-api/context.ts';
import {
  CONNECTION,
  type DataApiStack,
  describeDataApiSuite,
  endedOn,
  executeOn,
  rejectionOf,
  sessionStatusOn,
  startDataApiStack,
} from './data-api-suite.ts';
import { describeEngineContract, engineError } from './sql-engine-suite.ts';

/**
 * The Data API emulator on its default engine, PGlite in a worker thread: the shared suite, then
 * what only PGlite does (one backend shared by every session, no real cancel).
 */

// PGlite takes seconds to start, so the file starts it once; the suite gets a handle whose close
// leaves it running for the tests after it.
let started: Promise<SqlEngine> | undefined;
const sharedEngine = () => {
  started ??= createPgliteEngine();
  return started;
};

afterAll(async () => {
  await (await started)?.close();
});

describeDataApiSuite('PGlite', async () => {
  const engine = await sharedEngine();
  return {
    kind: engine.kind,
    connect: (dbUser) => engine.connect(dbUser),
    createUser: (dbUser) => engine.createUser(dbUser),
    admin: (sql, parameters) => engine.admin(sql, parameters),
    close: async () => undefined,
  };
});

describe('Engine: PGlite', () => {
  let engine: SqlEngine;

  beforeAll(async () => {
    engine = await sharedEngine();
    for (const user of ['acme', 'globex', 'initech']) await engine.createUser(user);
  });

  describeEngineContract(
    () => engine,
    () => engine.connect('acme'),
  );

  describe('Method: run', () => {
    it('runs as the db user, not as the superuser', async () => {
      // Prepare
      const connection = await engine.connect('globex');

      // Act
      const result = await connection.run(
        'SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user',
        [],
      );

      // Assess
      expect(result.rows).toEqual([['globex', 'f']]);
    });
  });

  describe('Method: connect', () => {
    it('fails the statements of a user that does not exist, and never creates one', async () => {
      // Prepare
      const stranger = await engine.connect('frank');

      // Act
      const error = await engineError(stranger.run('SELECT 1', []));
      const guarded = await engineError(stranger.run('SELECT 1', [], { commitIf: () => true }));
      const role = await engine.admin('SELECT 1 FROM pg_roles WHERE rolname = $1', ['frank']);
      // No transaction was left open on the one backend: another user's statement runs.
      const other = await (await engine.connect('acme')).run('SELECT 1 AS one', []);

      // Assess
      expect(error.message).toBe('FATAL: role "frank" does not exist');
      expect(error.sqlState).toBe('28000');
      expect(guarded.sqlState).toBe('28000');
      expect(role.rows).toEqual([]);
      expect(other.rows).toEqual([['1']]);
    });

    it.each([
      ['an upper-case letter', 'Alice'],
      ['a hyphen', 'alice-b'],
      ['nothing', ''],
    ])('throws EngineError for a user name with %s', async (_case, dbUser) => {
      // Act
      const error = await engineError(engine.connect(dbUser));

      // Assess
      expect(error.message).toMatch(/^ERROR: invalid user name/);
      expect(error.sqlState).toBe('42602');
    });
  });

  describe('Method: runScript', () => {
    it('runs several statements as the db user', async () => {
      // Prepare
      const connection = await engine.connect('initech');

      // Act
      await connection.runScript?.(
        'CREATE TABLE initech_script (x int); INSERT INTO initech_script VALUES (1), (2)',
      );
      const result = await connection.run('SELECT sum(x) FROM initech_script', []);
      const owner = await engine.admin(
        "SELECT tableowner FROM pg_tables WHERE tablename = 'initech_script'",
      );

      // Assess
      expect(result.rows).toEqual([['3']]);
      expect(owner.rows).toEqual([['initech']]);
    });
  });
});

describe('Redshift Data API emulator: what only PGlite does', () => {
  let stack: DataApiStack;

  beforeAll(async () => {
    const engine = await sharedEngine();
    // The users these tests run as, so that the block passes on its own as well as after the suite.
    for (const tenant of ['acme', 'globex']) await engine.createUser(demoUserOf(tenant));
    stack = await startDataApiStack(engine, { loadDemoData: false });
  });

  afterAll(async () => {
    await stack?.close();
  });

  const execute = (input: Partial<ExecuteStatementCommandInput>) => executeOn(stack.client, input);
  const ended = (id: string | undefined) => endedOn(stack.client, id);
  const sessionStatus = (sessionId: string | undefined) => sessionStatusOn(stack.client, sessionId);

  /** Runs SQL on a session (or opens one) and waits for its end; the result's rows as text. */
  async function onSession(sessionId: string | undefined, sql: string, user = CONNECTION.DbUser) {
    const submitted = await execute(
      sessionId
        ? { Sql: sql, SessionId: sessionId }
        : { ...CONNECTION, DbUser: user, Sql: sql, SessionKeepAliveSeconds: 60 },
    );
    const described = await ended(submitted.Id);
    const rows =
      described.Status === 'FINISHED' && described.HasResultSet
        ? ((await stack.client.send(new GetStatementResultCommand({ Id: submitted.Id }))).Records ??
          [])
        : [];
    return {
      sessionId: submitted.SessionId as string,
      status: described.Status,
      error: described.Error,
      rows: rows.map((row) => row.map((field) => field.stringValue ?? field.longValue ?? null)),
    };
  }

  it('refuses a statement that would leave a transaction open, and holds no other session', async () => {
    // Prepare
    const first = await onSession(undefined, 'select 1');

    // Act
    const begun = await onSession(first.sessionId, 'begin');
    const other = await onSession(undefined, 'select 2');
    const after = await onSession(first.sessionId, 'select 3');

    // Assess
    expect(begun.status).toBe('FAILED');
    expect(begun.error).toContain('cannot keep a transaction open between statements');
    expect(other.rows).toEqual([[2]]);
    expect(after.rows).toEqual([[3]]);
  });

  it("keeps one session's temporary tables from every other session, its own user's included", async () => {
    // Prepare: a permanent table and, in one session, a temporary one of the same name.
    await onSession(undefined, 'create table if not exists shadowed (x int)');
    await onSession(undefined, 'truncate shadowed');
    await onSession(undefined, 'grant select on shadowed to public');
    const planter = await onSession(
      undefined,
      'create temp table shadowed (x int primary key, y serial)',
    );
    await onSession(planter.sessionId, 'insert into shadowed (x) values (42)');

    // Act
    const sameUser = await onSession(undefined, 'select count(*)::text from shadowed');
    const otherUser = await onSession(
      undefined,
      'select count(*)::text from shadowed',
      demoUserOf('globex'),
    );
    const samePlan = await onSession(undefined, 'create temp table shadowed (x int primary key)');
    const itself = await onSession(planter.sessionId, 'select x::text from shadowed');

    // Assess
    expect(sameUser.rows).toEqual([['0']]);
    expect(otherUser.rows).toEqual([['0']]);
    expect(samePlan.status).toBe('FINISHED');
    expect(itself.rows).toEqual([['42']]);
  });

  it("keeps one session's settings from every other session, and its own for itself", async () => {
    // Prepare
    const setter = await onSession(undefined, 'set search_path to pg_catalog');
    await onSession(setter.sessionId, "set spectra_test.marker = 'planted'");

    // Act
    const other = await onSession(
      undefined,
      "select current_setting('search_path'), coalesce(current_setting('spectra_test.marker', true), '')",
      demoUserOf('globex'),
    );
    const itself = await onSession(
      setter.sessionId,
      "select current_setting('search_path'), current_setting('spectra_test.marker', true)",
    );

    // Assess
    // The default search path, as on Redshift: another session's SET does not reach it.
    expect(other.rows).toEqual([['"$user", public', '']]);
    expect(itself.rows).toEqual([['pg_catalog', 'planted']]);
  });

  it.each([
    ['set session authorization', `set session authorization ${demoUserOf('globex')}`],
    ['set_config', `select set_config('session_authorization', 'postgres', false)`],
  ])(
    'refuses a statement that makes its session another user (%s), as for a user who may not',
    async (_case, sql) => {
      // Prepare
      const session = await onSession(undefined, 'select 1');

      // Act
      const refused = await onSession(session.sessionId, sql);
      const after = await onSession(
        session.sessionId,
        'select session_user::text, current_user::text',
      );

      // Assess
      expect(refused.status).toBe('FAILED');
      expect(refused.error).toBe('ERROR: permission denied to set session authorization');
      expect(after.rows).toEqual([[CONNECTION.DbUser, CONNECTION.DbUser]]);
    },
  );

  it('refuses SET ROLE to another user, and RESET ROLE leaves the user as it was', async () => {
    // Prepare
    const session = await onSession(undefined, 'select 1');

    // Act
    const refused = await onSession(session.sessionId, `set role ${demoUserOf('globex')}`);
    const reset = await onSession(session.sessionId, 'reset role');
    const after = await onSession(session.sessionId, 'select current_user::text');

    // Assess
    expect(refused.error).toBe(`ERROR: permission denied to set role "${demoUserOf('globex')}"`);
    expect(reset.status).toBe('FINISHED');
    expect(after.rows).toEqual([[CONNECTION.DbUser]]);
  });

  it('accepts the cancel of a statement PGlite runs, reports it STARTED until PGlite is done, then ABORTED and undone', async () => {
    // Prepare
    const session = await execute({
      ...CONNECTION,
      SessionKeepAliveSeconds: 60,
      WaitTimeSeconds: 20,
    });
    await execute({
      Sql: 'create table cancelled_insert (n int)',
      SessionId: session.SessionId,
      WaitTimeSeconds: 20,
    });
    // Held once PGlite has run it and before it commits: to a stop, PGlite is still running it
    // until the test releases it, however slow the machine.
    const marker = `ran-${randomUUID()}`;
    const { controls } = stack.emulator;
    controls.holdStatements(marker, 'RAN');
    const sleeper = await execute({
      Sql: `insert into cancelled_insert select 1 -- ${marker}`,
      SessionId: session.SessionId,
    });
    while (controls.stats().statementsHeld < 1)
      await new Promise((resolve) => setTimeout(resolve, 10));

    // Act
    const cancelled = await stack.client.send(new CancelStatementCommand({ Id: sleeper.Id }));
    const described = await stack.client.send(new DescribeStatementCommand({ Id: sleeper.Id }));
    const busy = await sessionStatus(session.SessionId);
    const refused = await rejectionOf(execute({ SessionId: session.SessionId }));
    controls.releaseStatements(marker);
    const ended = await stack.client.send(
      new DescribeStatementCommand({ Id: sleeper.Id, WaitTimeSeconds: 20 }),
    );
    while ((await sessionStatus(session.SessionId)) === 'BUSY')
      await new Promise((resolve) => setTimeout(resolve, 50));
    const count = await execute({
      Sql: 'select count(*) from cancelled_insert',
      SessionId: session.SessionId,
      WaitTimeSeconds: 20,
    });
    const rows = await stack.client.send(new GetStatementResultCommand({ Id: count.Id }));

    // Assess
    expect(cancelled.Status).toBe(true);
    expect(described.Status).toBe('STARTED');
    expect(busy).toBe('BUSY');
    expect(refused).toBeInstanceOf(ValidationException);
    expect(refused.message).toBe('Session is not available');
    expect(ended.Status).toBe('ABORTED');
    expect(rows.Records).toEqual([[{ longValue: 0 }]]);
  });
});
