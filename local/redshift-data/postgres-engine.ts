import { readFile } from 'node:fs/promises';
import pg from 'pg';
import {
  checkDbUser,
  createUserAs,
  type EngineColumn,
  type EngineConnection,
  EngineError,
  type EngineResult,
  guardOf,
  type RunOptions,
  runGuarded,
  type SqlEngine,
} from './sql-engine.ts';

/**
 * The Data API emulator's engine on a real PostgreSQL server (`SPECTRA_LOCAL_DATABASE_URL`).
 *
 * Unlike PGlite, every Data API session gets its own backend, so temporary tables, `SET`, locks
 * and `pg_cancel_backend` behave as they do on Redshift, and two sessions really run at once.
 * Each session logs in AS its `DbUser` (not `SET ROLE` on a superuser connection): the session
 * user is then the tenant, so grants and row-level security apply and `RESET ROLE` cannot lead
 * back to the superuser. Users are made by {@link SqlEngine.createUser}, never by a login.
 *
 * Requirement on the server: the role logins carry no password, so the server must trust local
 * TCP connections for them (`host all all 127.0.0.1/32 trust` in pg_hba.conf, which is what
 * `initdb -A trust` writes and what the CI cluster uses). Only the database URL's user may need
 * a password.
 */

/**
 * Key of the advisory lock that serialises the engine's own catalog changes (shims, grants) in one
 * database across engines: two sessions that GRANT on the same schema or replace the same
 * function at once can fail with "tuple concurrently updated".
 */
const CATALOG_LOCK_KEY = 0x5_9ec7_2a;

/** The Redshift functions PostgreSQL lacks (GETDATE, NVL, DATEADD, ...), shared with PGlite. */
const REDSHIFT_SHIMS_PATH = new URL('./redshift-shims.sql', import.meta.url);

// Every value stays PostgreSQL's text output; the emulator maps text + type OID to Data API
// fields the same way for both engines. Set per client so that other `pg` users in the process
// keep their parsers.
const rawText = (value: string): string => value;
const TEXT_TYPES: pg.CustomTypesConfig = {
  // pg-types declares the parser as `any`; ours always returns the text it got.
  getTypeParser: (() => rawText) as pg.CustomTypesConfig['getTypeParser'],
};

/** `pg` sends the extended protocol (one statement, bound parameters) when this is set. */
interface ExtendedQueryConfig extends pg.QueryArrayConfig<string[]> {
  queryMode: 'extended';
}

/** Wraps whatever `pg` threw into an {@link EngineError} worded like Redshift's messages. */
function toEngineError(error: unknown): EngineError {
  if (error instanceof EngineError) return error;
  if (error instanceof pg.DatabaseError) {
    return new EngineError(`${error.severity ?? 'ERROR'}: ${error.message}`, error.code);
  }
  // Connection-level failures (server gone, connection terminated) carry no SQLSTATE.
  const message = error instanceof Error ? error.message : String(error);
  return new EngineError(`ERROR: ${message}`, undefined);
}

function toEngineResult(result: pg.QueryArrayResult<(string | null)[]>): EngineResult {
  const columns: EngineColumn[] = result.fields.map((field) => ({
    name: field.name,
    typeOid: field.dataTypeID,
    tableOid: field.tableID,
  }));
  return {
    columns,
    rows: result.rows,
    // The command tag's count: rows returned by SELECT/FETCH, rows affected by INSERT/UPDATE/
    // DELETE/COPY/CREATE TABLE AS; DDL and SET carry none.
    rowCount: result.rowCount ?? -1,
    command: result.command ?? '',
    // `pg` fills `fields` from the RowDescription, which a query that returns zero rows still
    // sends. (A zero-column `SELECT;` is the one result set this reports as none.)
    hasResultSet: columns.length > 0,
  };
}

/**
 * Runs SQL on a client. The extended protocol takes exactly one statement and binds `$1..$n` as
 * untyped text; the simple protocol takes a script of several statements and answers with one
 * result each, of which the last is kept.
 */
async function query(
  client: pg.Client,
  sql: string,
  parameters: string[],
  protocol: 'extended' | 'simple',
): Promise<EngineResult> {
  try {
    if (protocol === 'extended') {
      const config: ExtendedQueryConfig = {
        text: sql,
        values: parameters,
        rowMode: 'array',
        queryMode: 'extended',
      };
      return toEngineResult(await client.query(config));
    }
    // With several statements `pg` resolves to an array of results, which its types do not say.
    const results:
      | pg.QueryArrayResult<(string | null)[]>
      | pg.QueryArrayResult<(string | null)[]>[] = await client.query({
      text: sql,
      rowMode: 'array',
    });
    const last = Array.isArray(results) ? results.at(-1) : results;
    if (!last) throw new EngineError('ERROR: the script contained no statement', '42601');
    return toEngineResult(last);
  } catch (error) {
    throw toEngineError(error);
  }
}

/** Where and how the role logins connect: the admin connection's server and database. */
interface ServerAddress {
  host: string;
  port: number;
  database: string;
  ssl: pg.ClientConfig['ssl'];
}

async function openClient(config: pg.ClientConfig): Promise<pg.Client> {
  const client = new pg.Client({ ...config, types: TEXT_TYPES });
  // A backend that dies while the connection is idle (pg_terminate_backend, server restart)
  // is reported as an 'error' event; unhandled, it would crash the process. The next query on
  // the client then fails and is reported as an EngineError.
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => {});
    throw toEngineError(error);
  }
  return client;
}

/**
 * Connects to the server at `databaseUrl` (a superuser, e.g.
 * `postgres://postgres@127.0.0.1:5432/postgres`) and returns an engine whose connections log in
 * as the statement's `DbUser` on the same host, port and database. The Redshift shims are
 * loaded into that database first (they are idempotent, so the emulator may load them again).
 *
 * @throws EngineError when the server cannot be reached or the shims fail to load.
 */
export async function createPostgresEngine(databaseUrl: string): Promise<SqlEngine> {
  const shims = await readFile(REDSHIFT_SHIMS_PATH, 'utf8');
  const adminClient = await openClient({
    connectionString: databaseUrl,
    application_name: 'spectra-local-admin',
  });
  const address: ServerAddress = {
    // `pg` has resolved the URL (and PG* environment defaults) into these.
    host: adminClient.host,
    port: adminClient.port,
    database: adminClient.database ?? 'postgres',
    ssl: adminClient.ssl,
  };
  try {
    // A session lock rather than a transaction's: the script keeps its own transaction handling.
    // Nothing else uses the admin client yet, so the three queries cannot interleave.
    await query(adminClient, `SELECT pg_advisory_lock(${CATALOG_LOCK_KEY})`, [], 'simple');
    await query(adminClient, shims, [], 'simple');
    await query(adminClient, `SELECT pg_advisory_unlock(${CATALOG_LOCK_KEY})`, [], 'simple');
  } catch (error) {
    // Ending the session also releases the lock.
    await adminClient.end().catch(() => {});
    throw error;
  }

  const openConnections = new Set<pg.Client>();
  let closed = false;

  const admin = (sql: string, parameters: string[] = []): Promise<EngineResult> =>
    query(adminClient, sql, parameters, parameters.length > 0 ? 'extended' : 'simple');

  return {
    kind: 'postgres',

    async connect(dbUser: string): Promise<EngineConnection> {
      if (closed) throw new EngineError('ERROR: the engine is closed', undefined);
      checkDbUser(dbUser);
      // A role that does not exist fails the login itself (SQLSTATE 28000), as on a server.
      const client = await openClient({
        ...address,
        user: dbUser,
        application_name: 'spectra-local',
      });
      let backendPid: number;
      try {
        // close() may have run while this connect waited for the server.
        if (closed) throw new EngineError('ERROR: the engine is closed', undefined);
        openConnections.add(client);
        const pidResult = await query(client, 'SELECT pg_backend_pid()', [], 'extended');
        backendPid = Number(pidResult.rows[0]?.[0]);
      } catch (error) {
        openConnections.delete(client);
        await client.end().catch(() => {});
        throw error;
      }
      let ended = false;
      // The server reports after every request whether a transaction is open ('T'), failed ('E')
      // or not ('I'): the caller's own BEGIN decides how a statement is guarded.
      let transactionStatus = 'I';
      client.connection.on('readyForQuery', (message: { status: string }) => {
        transactionStatus = message.status;
      });
      /** The statement this connection runs now: can it still be undone? */
      let current: { undoable: boolean } | undefined;

      return {
        backendPid,
        async run(sql, parameters, options: RunOptions = {}) {
          const commitIf = guardOf(sql, options);
          const guarded = commitIf !== undefined;
          const statement = { undoable: guarded };
          current = statement;
          const runAsItIs = () => query(client, sql, parameters, 'extended');
          try {
            if (!guarded) return await runAsItIs();
            return await runGuarded(
              {
                inCallerTransaction: transactionStatus !== 'I',
                run: runAsItIs,
                runInOwnTransaction: async () => {
                  await query(client, 'BEGIN', [], 'simple');
                  return runAsItIs();
                },
                control: (control) => query(client, control, [], 'simple'),
                committing: () => {
                  statement.undoable = false;
                },
                ran: options.ran,
              },
              commitIf,
            );
          } finally {
            current = undefined;
          }
        },
        stopsAtOnce: () => true,
        canStop() {
          // An unguarded statement can still be cancelled on a server, but may have committed.
          return current === undefined || current.undoable;
        },
        async runScript(sql) {
          await query(client, sql, [], 'simple');
        },
        async cancel() {
          // A closed connection's pid may already belong to another session's backend.
          if (ended) return false;
          // Asked from the superuser's connection: the tenant's own is busy running the statement.
          await admin('SELECT pg_cancel_backend($1)', [String(backendPid)]);
          return true;
        },
        async close() {
          if (ended) return;
          ended = true;
          openConnections.delete(client);
          await client.end().catch(() => {});
        },
      };
    },

    admin,

    // Roles are cluster-wide and grants per database: the grant runs even when the role exists.
    // The advisory lock holds to the end of the script's transaction.
    createUser: (dbUser) =>
      createUserAs(admin, dbUser, `SELECT pg_advisory_xact_lock(${CATALOG_LOCK_KEY});\n`),

    async close() {
      if (closed) return;
      closed = true;
      const clients = [...openConnections, adminClient];
      openConnections.clear();
      await Promise.all(clients.map((client) => client.end().catch(() => {})));
    },
  };
}
