import { DB_USER_NAME_PATTERN } from '../../functions/common/config.ts';
import { isTransactionControl } from './sql-text.ts';

/**
 * Where the Redshift Data API emulator runs SQL. Two engines implement this: PGlite in a worker
 * thread (embedded, the default) and a PostgreSQL server (`SPECTRA_LOCAL_DATABASE_URL`).
 *
 * Values come back as PostgreSQL's text output plus each column's type OID, so that both engines
 * produce the same Data API `Field`s and the same `ColumnMetadata` from one mapping.
 */

export interface EngineColumn {
  name: string;
  /** PostgreSQL type OID (23 int4, 20 int8, 1700 numeric, 25 text, 1184 timestamptz, ...). */
  typeOid: number;
  /** OID of the table the column comes from, 0 when computed. */
  tableOid: number;
}

export interface EngineResult {
  /** Empty when the statement returns no rows (INSERT, CREATE, SET, ...). */
  columns: EngineColumn[];
  /** One array per row, each value PostgreSQL's text form or null. */
  rows: (string | null)[][];
  /** Rows returned, or rows affected for INSERT/UPDATE/DELETE/COPY; -1 when neither applies. */
  rowCount: number;
  /** The command tag's verb: SELECT, INSERT, CREATE, ... */
  command: string;
  hasResultSet: boolean;
}

/** A SQL error, with the SQLSTATE the engine reported. */
export class EngineError extends Error {
  constructor(
    message: string,
    readonly sqlState: string | undefined,
  ) {
    super(message);
    this.name = 'EngineError';
  }
}

/** How a statement stopped by its `commitIf` fails: as a cancelled statement does on a server. */
export const cancelledError = () =>
  new EngineError('ERROR: canceling statement due to user request', '57014');

/** SQLSTATE 25001: the statement cannot run inside a transaction block (VACUUM, ...). */
export const ACTIVE_SQL_TRANSACTION = '25001';

/**
 * Fails the caller's open transaction, as a cancel does on a server: everything in it, the
 * cancelled statement included, is rolled back when it ends.
 */
const FAIL_TRANSACTION_SQL = `DO $$ BEGIN RAISE EXCEPTION 'canceling statement due to user request' USING ERRCODE = 'query_canceled'; END $$`;

export interface RunOptions {
  /**
   * Asked once the statement has run and before its effects are committed: `false` undoes them
   * and the run fails with SQLSTATE 57014, as a cancelled statement does. This is how a statement
   * that was cancelled, or whose session was closed, while the engine ran it leaves nothing
   * behind on an engine that cannot stop a running statement (PGlite). Not asked for a statement
   * the engine cannot undo (see {@link EngineConnection.canStop}).
   */
  commitIf?: () => boolean;
  /**
   * Awaited once a statement run under `commitIf` has run and before `commitIf` is asked, while
   * the engine still counts as running it: a stop asked meanwhile is answered as one asked while
   * the engine runs the statement. The test controls' hold at RAN waits here, so that a test can
   * stop a statement the engine is running without racing how long it runs (on PGlite, nothing
   * else can keep a running statement from ending).
   */
  ran?: () => Promise<void> | undefined;
  /**
   * The emulator's own transaction control (a batch's BEGIN, COMMIT and ROLLBACK), not a user's:
   * an engine that refuses a user's open transaction (PGlite) lets this one through.
   */
  batchControl?: boolean;
}

/** What {@link runGuarded} asks of an engine's connection. */
export interface GuardedRunSteps {
  /** Whether the caller's own transaction is open on the connection. */
  inCallerTransaction: boolean;
  /** Runs the statement as it is: in the caller's transaction, or on its own. */
  run(): Promise<EngineResult>;
  /** Opens a transaction of the engine's own and runs the statement in it. */
  runInOwnTransaction(): Promise<EngineResult>;
  /**
   * Runs one of the engine's own statements as it is: the COMMIT or ROLLBACK that ends the
   * engine's transaction, or {@link FAIL_TRANSACTION_SQL} in the caller's.
   */
  control(sql: string): Promise<unknown>;
  /** Called when the statement can no longer be undone: it commits, or runs as it is. */
  committing(): void;
  /** What {@link RunOptions.ran} asks for, once the statement has run. */
  ran?(): Promise<void> | undefined;
}

/**
 * The `commitIf` a statement runs under with `options`, or undefined when it runs as it is: a
 * transaction-control statement (BEGIN, COMMIT, ...) cannot run inside an engine's transaction.
 */
export function guardOf(sql: string, options: RunOptions): (() => boolean) | undefined {
  return isTransactionControl(sql) ? undefined : options.commitIf;
}

/**
 * Runs a statement under `commitIf` (see {@link RunOptions.commitIf}): in a transaction of its
 * own, committed only if `commitIf()` still says so once the statement has run, so that a cancel
 * that comes just after the statement finished cannot leave it committed yet reported ABORTED.
 * Inside the caller's transaction, a stop fails that transaction, as a server's cancel does. A
 * statement that cannot run inside a transaction block (VACUUM, ...) runs as it is. Both engines
 * run statements this way; only how they reach their backend differs.
 */
export async function runGuarded(
  steps: GuardedRunSteps,
  commitIf: () => boolean,
): Promise<EngineResult> {
  if (steps.inCallerTransaction) {
    // Part of the caller's transaction: a failure already fails it; a stop fails it too.
    const result = await steps.run();
    await steps.ran?.();
    if (commitIf()) return result;
    await steps.control(FAIL_TRANSACTION_SQL).catch(() => undefined);
    throw cancelledError();
  }
  let result: EngineResult;
  try {
    result = await steps.runInOwnTransaction();
  } catch (error) {
    await steps.control('ROLLBACK').catch(() => undefined);
    if (error instanceof EngineError && error.sqlState === ACTIVE_SQL_TRANSACTION) {
      steps.committing();
      return steps.run();
    }
    throw error;
  }
  await steps.ran?.();
  if (commitIf()) {
    steps.committing();
    await steps.control('COMMIT');
    return result;
  }
  await steps.control('ROLLBACK');
  throw cancelledError();
}

/**
 * One database session. A Data API session maps to one connection: temporary tables and `SET`
 * stay in it. Statements on one connection never overlap (the emulator runs one at a time).
 */
export interface EngineConnection {
  /** Backend process id, reported as `RedshiftPid`. */
  readonly backendPid: number;
  /**
   * Runs one statement as the connection's database user. `parameters` are bound to `$1..$n` as
   * untyped text, which PostgreSQL casts as Redshift does.
   */
  run(sql: string, parameters: string[], options?: RunOptions): Promise<EngineResult>;
  /** Runs a script of several statements (a batch), each committed as the engine does. */
  runScript?(sql: string): Promise<void>;
  /**
   * Whether the statement this connection runs now (if any) can still be kept from leaving
   * effects: true while it waits its turn, or runs under a `commitIf` not yet answered `true`;
   * false once it commits or when the engine cannot undo it. Answered at once, so that the
   * emulator decides in the same step whether a stopped statement is ABORTED or still ends.
   */
  canStop(): boolean;
  /**
   * Whether a stop asked now ends the statement at once: true on a server, whose cancel
   * interrupts the backend; false while PGlite runs the statement, since its WASM runs on one
   * thread and nothing can reach in to interrupt it (PostgreSQL's `QueryCancelPending` flag is in
   * memory no other thread can write). The statement then ends, undone, when PGlite is done.
   */
  stopsAtOnce(): boolean;
  /** Asks the engine to stop the running statement; false if it cannot (PGlite). */
  cancel(): Promise<boolean>;
  close(): Promise<void>;
}

export interface SqlEngine {
  readonly kind: 'pglite' | 'postgres';
  /**
   * A connection that runs statements as `dbUser`, so grants and row-level security apply. The
   * user must exist ({@link createUser}): as a login does, a statement as a user that does not
   * exist fails with SQLSTATE 28000 (on PGlite, at the connection's first statement).
   */
  connect(dbUser: string): Promise<EngineConnection>;
  /**
   * Creates a database user (a login role) unless it exists, with what Redshift gives every new
   * user: USAGE and CREATE on schema public (PostgreSQL 15+ no longer gives CREATE there). It is
   * granted nothing else: tables are read through their own grants (the demo tables grant SELECT to
   * PUBLIC). Idempotent; true when it created the user.
   */
  createUser(dbUser: string): Promise<boolean>;
  /** Runs SQL as the superuser: demo data, catalog queries. */
  admin(sql: string, parameters?: string[]): Promise<EngineResult>;
  close(): Promise<void>;
}

/** SQLSTATE 28000, invalid_authorization_specification: PostgreSQL's for a login as no role. */
export const UNKNOWN_USER_SQLSTATE = '28000';

export const unknownUserError = (dbUser: string) =>
  new EngineError(`FATAL: role "${dbUser}" does not exist`, UNKNOWN_USER_SQLSTATE);

export const quoteIdentifier = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/**
 * {@link SqlEngine.createUser} for either engine, through its superuser's `admin`: the statements
 * that create the user run as one script (one transaction), after `scriptPrefix` (what an engine
 * must run first in that transaction). A user created meanwhile by another engine on the same
 * server is no error.
 */
export async function createUserAs(
  admin: SqlEngine['admin'],
  dbUser: string,
  scriptPrefix = '',
): Promise<boolean> {
  checkDbUser(dbUser);
  const role = quoteIdentifier(dbUser);
  const script = [
    `DO $$ BEGIN CREATE ROLE ${role} LOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$`,
    `GRANT USAGE, CREATE ON SCHEMA public TO ${role}`,
  ].join(';\n');
  const existing = await admin('SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1', [dbUser]);
  await admin(`${scriptPrefix}${script}`);
  return existing.rows.length === 0;
}

/**
 * Refuses a database user name Redshift would not take, as both engines must before connecting:
 * Redshift's rule, as Spectra writes names, which both engines can put in SQL without surprises.
 * PostgreSQL cuts names at 63 bytes, so two longer names that share their first 63 characters are
 * one role locally; Redshift keeps 127.
 */
export function checkDbUser(dbUser: string): void {
  if (!DB_USER_NAME_PATTERN.test(dbUser)) {
    throw new EngineError(
      `ERROR: invalid user name "${dbUser}": use 1 to 127 lowercase letters, digits, _ or $, not starting with a digit`,
      '42602',
    );
  }
}
