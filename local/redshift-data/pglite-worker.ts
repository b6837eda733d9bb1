import { parentPort } from 'node:worker_threads';
import { PGlite, protocol } from '@electric-sql/pglite';
import { PgliteSessionStates } from './pglite-sessions.ts';
import {
  type EngineColumn,
  type EngineResult,
  quoteIdentifier,
  unknownUserError,
} from './sql-engine.ts';
import { isTransactionControl } from './sql-text.ts';

/**
 * The thread that owns the PGlite instance. PGlite runs PostgreSQL's WASM synchronously, so a
 * `pg_sleep(2)` on the main thread would freeze the HTTP endpoint for two seconds; here it only
 * freezes this thread. Requests are answered one at a time, in arrival order: PGlite is a single
 * backend with no sessions of its own (pglite-engine.ts decides what to send when).
 *
 * Statements go through PostgreSQL's wire protocol (`execProtocol`) rather than `query()`, because
 * the wire messages carry what the Data API needs and `query()` drops or converts: every value in
 * its text form, each column's type OID, the OID of the table it comes from, and the transaction
 * status after the statement.
 */

export type WorkerRequest =
  /**
   * One statement, extended protocol, `$1..$n` bound as untyped text, as the db user. With
   * `begin`, a transaction is opened first and left open: the engine then commits or rolls back.
   */
  (
    | { id: number; op: 'run'; dbUser: string; sql: string; parameters: string[]; begin?: boolean }
    /** A script of several statements (simple protocol) as the db user. */
    | { id: number; op: 'script'; dbUser: string; sql: string }
    /** As the superuser: a script without parameters, or one statement with them. */
    | { id: number; op: 'admin'; sql: string; parameters: string[] }
    /** The connection closed: its temporary tables are dropped and its settings forgotten. */
    | { id: number; op: 'end-session' }
    | { id: number; op: 'close' }
  ) & {
    /** Whose session state the request runs in (see pglite-sessions.ts); 0 for the engine's own. */
    connectionId: number;
  };

/**
 * The backend's transaction status after the request, from ReadyForQuery: idle, inside a
 * transaction block, or inside a failed one.
 */
export type TransactionStatus = 'I' | 'T' | 'E';

export type WorkerResponse =
  | { id: number; ok: true; result: EngineResult; transactionStatus: TransactionStatus }
  | {
      id: number;
      ok: false;
      message: string;
      sqlState: string | undefined;
      transactionStatus: TransactionStatus;
    };

/** PGlite's one login, a superuser; statements run as their db user by SET SESSION AUTHORIZATION. */
const SUPERUSER = 'postgres';

/**
 * What a statement that made itself another user fails with, in Redshift's words for a user who
 * may not: PGlite's login is a superuser, so the backend itself would let it.
 */
const SESSION_AUTHORIZATION_DENIED = 'ERROR: permission denied to set session authorization';

/** The first message the worker sends, once PGlite is up (or could not start). */
export type WorkerReady = { ready: true } | { ready: false; message: string };

const { serialize } = protocol;

/** What the wire messages of one statement give (the message classes are not exported). */
interface WireField {
  name: string;
  tableID: number;
  dataTypeID: number;
}
interface WireMessage {
  name: string;
  fields?: WireField[] | (string | null)[];
  text?: string;
  message?: string;
  severity?: string;
  code?: string;
  status?: string;
}

/** A failed statement, worded as Redshift words it: `ERROR: relation "x" does not exist`. */
class StatementError extends Error {
  constructor(
    message: string,
    readonly sqlState: string | undefined,
  ) {
    super(message);
    this.name = 'StatementError';
  }
}

function concatBytes(parts: Uint8Array[]): Uint8Array {
  const bytes = new Uint8Array(parts.reduce((total, part) => total + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.length;
  }
  return bytes;
}

function emptyResult(): EngineResult {
  return { columns: [], rows: [], rowCount: -1, command: '', hasResultSet: false };
}

interface Outcome {
  result: EngineResult | StatementError;
  transactionStatus: TransactionStatus;
}

/**
 * The result of the last statement in the messages (a script can hold several; like psql, the
 * caller sees the last one), or the error that ended it.
 */
function outcomeOf(messages: WireMessage[]): Outcome {
  const ready = messages.findLast((message) => message.name === 'readyForQuery');
  const transactionStatus = (ready?.status ?? 'I') as TransactionStatus;
  const error = messages.find((message) => message.name === 'error');
  if (error) {
    const text = `${error.severity ?? 'ERROR'}: ${error.message ?? 'unknown error'}`;
    return { result: new StatementError(text, error.code), transactionStatus };
  }
  let current = emptyResult();
  let last = emptyResult();
  for (const message of messages) {
    if (message.name === 'rowDescription') {
      current.columns = (message.fields as WireField[]).map(
        (field): EngineColumn => ({
          name: field.name,
          typeOid: field.dataTypeID,
          tableOid: field.tableID,
        }),
      );
      current.hasResultSet = current.columns.length > 0;
    } else if (message.name === 'dataRow') {
      current.rows.push(message.fields as (string | null)[]);
    } else if (message.name === 'commandComplete') {
      // The tag: `SELECT 5`, `INSERT 0 3`, `UPDATE 2`, `CREATE TABLE`; DDL carries no count.
      const tag = (message.text ?? '').split(' ');
      current.command = tag[0] ?? '';
      const count = Number.parseInt(tag.at(-1) ?? '', 10);
      current.rowCount = Number.isNaN(count) ? -1 : count;
      last = current;
      current = emptyResult();
    }
  }
  return { result: last, transactionStatus };
}

async function start(): Promise<void> {
  if (!parentPort) throw new Error('pglite-worker.ts must run as a worker thread');
  const port = parentPort;
  let db: PGlite;
  try {
    db = await PGlite.create();
  } catch (error) {
    port.postMessage({ ready: false, message: String(error) } satisfies WorkerReady);
    return;
  }
  /** Roles seen to exist; users are never dropped here, so a role seen stays. */
  const rolesSeen = new Set<string>();

  async function execute(sql: string, parameters: string[] | 'script'): Promise<Outcome> {
    const message =
      parameters === 'script'
        ? serialize.query(sql)
        : concatBytes([
            serialize.parse({ text: sql }),
            serialize.bind({ values: parameters }),
            serialize.describe({ type: 'P' }),
            serialize.execute({}),
            serialize.sync(),
          ]);
    const { messages } = await db.execProtocol(message, { throwOnError: false });
    return outcomeOf(messages as WireMessage[]);
  }

  /** Runs as the superuser and throws on failure; for the engine's own statements. */
  async function executeOrThrow(sql: string): Promise<void> {
    const { result } = await execute(sql, 'script');
    if (result instanceof StatementError) throw result;
  }

  /**
   * Refuses a statement as a role that does not exist, as a server refuses the login: before any
   * BEGIN, so that the engine's own COMMIT or ROLLBACK for this connection never meets it. Roles
   * are made by the engine's createUser (an admin script), never here.
   */
  async function requireRole(dbUser: string): Promise<void> {
    if (rolesSeen.has(dbUser)) return;
    const existing = await execute('SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1', [
      dbUser,
    ]);
    if (existing.result instanceof StatementError) throw existing.result;
    if (existing.result.rows.length === 0) {
      const refused = unknownUserError(dbUser);
      throw new StatementError(refused.message, refused.sqlState);
    }
    rolesSeen.add(dbUser);
  }

  const sessions = new PgliteSessionStates(async (sql, parameters) => {
    const { result } = await execute(sql, parameters);
    if (result instanceof StatementError) throw result;
    return result;
  });

  /**
   * Back to the superuser after a tenant's statement, in the same round trip as reading who the
   * statement left as the session user. Inside a failed transaction both fail; the ROLLBACK that
   * must follow restores the identity from before the transaction.
   */
  async function restoreSuperuser(): Promise<{
    sessionUser: string | undefined;
    transactionStatus: TransactionStatus;
  }> {
    const { messages } = await db.execProtocol(
      serialize.query(`SELECT session_user; SET SESSION AUTHORIZATION ${SUPERUSER}`),
      { throwOnError: false },
    );
    const row = (messages as WireMessage[]).find((message) => message.name === 'dataRow');
    const ready = (messages as WireMessage[]).findLast((m) => m.name === 'readyForQuery');
    return {
      sessionUser: (row?.fields as (string | null)[] | undefined)?.[0] ?? undefined,
      transactionStatus: (ready?.status ?? 'I') as TransactionStatus,
    };
  }

  /**
   * Runs a tenant's statement as its db user: as the session user (SET SESSION AUTHORIZATION), so
   * that SET ROLE to another user is refused and RESET ROLE leads nowhere, as on a server where the
   * user logged in. PGlite's login is a superuser, so a statement could still make itself another
   * user (`set session authorization x`, `set_config('session_authorization', ...)`): one that ends
   * as anyone but its user fails, and its transaction is undone by the engine.
   */
  async function runAs(
    dbUser: string,
    sql: string,
    parameters: string[] | 'script',
    begin = false,
  ): Promise<Outcome> {
    await requireRole(dbUser);
    if (begin) await executeOrThrow('BEGIN');
    const setUser = await execute(`SET SESSION AUTHORIZATION ${quoteIdentifier(dbUser)}`, 'script');
    // Inside a failed transaction SET is refused too, but the user set before the failure still
    // holds (only this connection runs while its transaction is open), and the user's ROLLBACK must
    // get through; any other statement fails there as on every server.
    if (setUser.result instanceof StatementError && setUser.transactionStatus !== 'E')
      return setUser;
    const outcome = await execute(sql, parameters);
    const after = await restoreSuperuser();
    // A transaction's end restores the identity from before it: no statement of the user's to judge.
    const changedUser =
      !isTransactionControl(sql) &&
      after.sessionUser !== undefined &&
      after.sessionUser !== dbUser &&
      !(outcome.result instanceof StatementError);
    return {
      result: changedUser
        ? new StatementError(SESSION_AUTHORIZATION_DENIED, '42501')
        : outcome.result,
      transactionStatus: after.transactionStatus,
    };
  }

  /** Loads the request's connection state first, unless a transaction is open (then it is its). */
  async function enterSession(connectionId: number): Promise<void> {
    if (!db.isInTransaction()) await sessions.switchTo(connectionId);
  }

  async function answer(request: WorkerRequest): Promise<WorkerResponse | undefined> {
    let outcome: Outcome;
    try {
      switch (request.op) {
        case 'run':
          await enterSession(request.connectionId);
          sessions.noteSql(request.connectionId, request.sql);
          outcome = await runAs(request.dbUser, request.sql, request.parameters, request.begin);
          break;
        case 'script':
          await enterSession(request.connectionId);
          sessions.noteSql(request.connectionId, request.sql);
          outcome = await runAs(request.dbUser, request.sql, 'script');
          break;
        case 'admin': {
          await enterSession(request.connectionId);
          const parameters = request.parameters.length > 0 ? request.parameters : 'script';
          outcome = await execute(request.sql, parameters);
          break;
        }
        case 'end-session':
          await sessions.end(request.connectionId);
          outcome = { result: emptyResult(), transactionStatus: 'I' };
          break;
        case 'close':
          await db.close();
          port.postMessage({
            id: request.id,
            ok: true,
            result: emptyResult(),
            transactionStatus: 'I',
          } satisfies WorkerResponse);
          port.close();
          return undefined;
      }
    } catch (error) {
      outcome = {
        result:
          error instanceof StatementError
            ? error
            : new StatementError(`ERROR: ${error instanceof Error ? error.message : error}`, ''),
        transactionStatus: db.isInTransaction() ? 'T' : 'I',
      };
    }
    const { result, transactionStatus } = outcome;
    return result instanceof StatementError
      ? {
          id: request.id,
          ok: false,
          message: result.message,
          sqlState: result.sqlState || undefined,
          transactionStatus,
        }
      : { id: request.id, ok: true, result, transactionStatus };
  }

  // One request at a time: the promise chain is the queue.
  let queue = Promise.resolve();
  port.on('message', (request: WorkerRequest) => {
    queue = queue.then(async () => {
      const response = await answer(request);
      if (response) port.postMessage(response);
    });
  });
  port.postMessage({ ready: true } satisfies WorkerReady);
}

await start();
