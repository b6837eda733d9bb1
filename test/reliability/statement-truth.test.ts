import { randomUUID } from 'node:crypto';
import {
  CancelStatementCommand,
  DescribeStatementCommand,
  type DescribeStatementResponse,
  ExecuteStatementCommand,
  type ExecuteStatementCommandInput,
} from '@aws-sdk/client-redshift-data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgliteEngine } from '../../local/redshift-data/pglite-engine.ts';
import { createPostgresEngine } from '../../local/redshift-data/postgres-engine.ts';
import type { SqlEngine } from '../../local/redshift-data/sql-engine.ts';
import { CONNECTION, type DataApiStack, startDataApiStack } from '../local/data-api-suite.ts';
import { type PostgresServer, startPostgres } from '../support/postgres-server.ts';

/**
 * What the Data API emulator reports about a statement must match what it left in the data: a
 * statement stopped while the engine runs it (cancelled, or its session closed) is ABORTED or
 * FAILED and leaves no row, on PGlite (which cannot stop a running statement) as on PostgreSQL.
 */

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each([
  ['PGlite', async () => ({ engine: await createPgliteEngine(), server: undefined })],
  [
    'PostgreSQL',
    async () => {
      const server = await startPostgres();
      return { engine: await createPostgresEngine(server.url), server };
    },
  ],
] as const)('Reliability: statement status matches the data on %s', (_, start) => {
  let engine: SqlEngine;
  let server: PostgresServer | undefined;
  let stack: DataApiStack;
  const table = `truth_${randomUUID().slice(0, 8)}`;

  async function run(input: Partial<ExecuteStatementCommandInput>) {
    const submitted = await stack.client.send(
      new ExecuteStatementCommand({ Sql: 'select 1', ...input }),
    );
    return submitted;
  }

  async function ended(id: string): Promise<DescribeStatementResponse> {
    return stack.client.send(new DescribeStatementCommand({ Id: id, WaitTimeSeconds: 20 }));
  }

  async function untilRunning(id: string): Promise<void> {
    for (let i = 0; i < 200; i++) {
      const described = await stack.client.send(new DescribeStatementCommand({ Id: id }));
      if (described.Status === 'STARTED') {
        // Long enough for the engine to be running it, not only to have it queued.
        await sleep(150);
        return;
      }
      await sleep(10);
    }
    throw new Error(`${id} never started`);
  }

  async function rows(id: string): Promise<number> {
    const count = await run({
      ...CONNECTION,
      Sql: `select count(*) from ${table} where id = :id`,
      Parameters: [{ name: 'id', value: id }],
      WaitTimeSeconds: 20,
    });
    const { GetStatementResultCommand } = await import('@aws-sdk/client-redshift-data');
    const result = await stack.client.send(new GetStatementResultCommand({ Id: count.Id }));
    return Number(result.Records?.[0]?.[0]?.longValue);
  }

  /** A session with a slow INSERT of `id` running on it. */
  async function slowInsertOnSession(id: string) {
    const opened = await run({ ...CONNECTION, SessionKeepAliveSeconds: 60, WaitTimeSeconds: 20 });
    const insert = await run({
      SessionId: opened.SessionId,
      Sql: `insert into ${table} (id) select :id from (select pg_sleep(0.6)) as pause`,
      Parameters: [{ name: 'id', value: id }],
    });
    await untilRunning(insert.Id as string);
    return { sessionId: opened.SessionId as string, statementId: insert.Id as string };
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
  }, 120_000);

  afterAll(async () => {
    await stack?.close();
    await engine?.close();
    await server?.stop();
  });

  it('commits an INSERT nobody stops, and reports it FINISHED', async () => {
    const id = randomUUID();
    const { statementId } = await slowInsertOnSession(id);

    expect((await ended(statementId)).Status).toBe('FINISHED');
    expect(await rows(id)).toBe(1);
  });

  it('reports an INSERT cancelled while it runs ABORTED, and leaves no row', async () => {
    // Prepare
    const id = randomUUID();
    const { statementId } = await slowInsertOnSession(id);

    // Act
    const cancelled = await stack.client.send(new CancelStatementCommand({ Id: statementId }));

    // Assess
    expect(cancelled.Status).toBe(true);
    expect((await ended(statementId)).Status).toBe('ABORTED');
    await sleep(800);
    expect(await rows(id)).toBe(0);
  });

  it('reports an INSERT whose session closes while it runs FAILED, and leaves no row', async () => {
    // Prepare
    const id = randomUUID();
    const { sessionId, statementId } = await slowInsertOnSession(id);

    // Act
    stack.emulator.controls.expireSession(sessionId);

    // Assess
    const described = await ended(statementId);
    expect(described.Status).toBe('FAILED');
    expect(described.Error).toMatch(/was closed/);
    await sleep(800);
    expect(await rows(id)).toBe(0);
  });

  it("fails the caller's transaction when a statement in it is cancelled, as a server does", async () => {
    // Prepare
    const id = randomUUID();
    const opened = await run({ ...CONNECTION, SessionKeepAliveSeconds: 60, WaitTimeSeconds: 20 });
    const session = { SessionId: opened.SessionId, WaitTimeSeconds: 20 };
    expect((await ended((await run({ ...session, Sql: 'begin' })).Id as string)).Status).toBe(
      'FINISHED',
    );
    const insert = await run({
      SessionId: opened.SessionId,
      Sql: `insert into ${table} (id) select :id from (select pg_sleep(0.6)) as pause`,
      Parameters: [{ name: 'id', value: id }],
    });
    await untilRunning(insert.Id as string);

    // Act
    await stack.client.send(new CancelStatementCommand({ Id: insert.Id }));
    await sleep(800);
    const next = await ended((await run({ ...session, Sql: 'select 1' })).Id as string);
    const commit = await ended((await run({ ...session, Sql: 'commit' })).Id as string);

    // Assess
    expect((await ended(insert.Id as string)).Status).toBe('ABORTED');
    expect(next.Status).toBe('FAILED');
    expect(next.Error).toMatch(/current transaction is aborted/);
    expect(commit.Status).toBe('FINISHED');
    expect(await rows(id)).toBe(0);
  });
});
