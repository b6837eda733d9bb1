import { afterAll, beforeAll } from 'vitest';
import { createPostgresEngine } from '../../../local/redshift-data/postgres-engine.ts';
import type { EngineConnection, SqlEngine } from '../../../local/redshift-data/sql-engine.ts';

/**
 * What the PostgreSQL engine's tests share: one engine on the file's throwaway server, the
 * connections it opens for users (closed after the tests), and two ways to wait for another
 * connection's statement without racing it.
 */

/** Polls until `check` holds; the statement it waits for runs on another connection. */
export async function until(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 20));
}

/**
 * An advisory lock the test holds on the engine's admin connection: statements that take it
 * (`waitSql`) wait inside the server until `open()`, so they overlap however slow the machine is.
 */
export async function closeGate(engine: SqlEngine) {
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

export interface PostgresEngineSuite {
  /** The engine on the throwaway server, once the suite's beforeAll has run. */
  engine(): SqlEngine;
  /** A connection as a user made for it, that afterAll closes. */
  connect(dbUser: string): Promise<EngineConnection>;
  /** The throwaway server's URL, for tests that start engines of their own. */
  serverUrl(): string;
}

/** Opens the engine before the calling describe's tests and closes it and its connections after. */
export function postgresEngineSuite(serverUrl: () => string): PostgresEngineSuite {
  let engine: SqlEngine | undefined;
  const connections: EngineConnection[] = [];
  const started = () => {
    if (!engine) throw new Error('The engine suite has not started');
    return engine;
  };

  beforeAll(async () => {
    engine = await createPostgresEngine(serverUrl());
  });

  afterAll(async () => {
    await Promise.all(connections.map((connection) => connection.close()));
    await engine?.close();
  });

  return {
    engine: started,
    async connect(dbUser) {
      await started().createUser(dbUser);
      const connection = await started().connect(dbUser);
      connections.push(connection);
      return connection;
    },
    serverUrl,
  };
}
