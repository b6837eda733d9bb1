import { randomUUID } from 'node:crypto';
import { FAILED_TRANSACTION_MESSAGE } from '../../functions/common/sql-statements.ts';
import { SERVERLESS_IAM_DB_USER } from './connection-target.ts';
import type { RunControls } from './controls.ts';
import { runRedshiftStatement } from './dialect/run.ts';
import {
  type ConnectionTarget,
  finish,
  type Part,
  type Session,
  type Statement,
  type StatementStatus,
  type Store,
  TERMINAL,
} from './model.ts';
import { columnCatalogOf } from './operations/catalog.ts';
import { columnMetadataOf, resultSizeOf } from './result-format.ts';
import {
  checkDbUser,
  type EngineConnection,
  EngineError,
  type SqlEngine,
  UNKNOWN_USER_SQLSTATE,
} from './sql-engine.ts';
import { isTransactionControl } from './sql-text.ts';

/**
 * Runs a submitted statement on the engine: SUBMITTED → PICKED (its connection opens) → STARTED
 * → FINISHED, FAILED or ABORTED, one part after the other for a batch, inside one transaction
 * unless the batch is AUTO_COMMIT. A stop (CancelStatement, a session closed) can arrive at any
 * step; see {@link stopStatement} in the model for how it is reported.
 */

export interface RunnerContext {
  store: Store;
  engine: SqlEngine;
  controls: RunControls;
  /** The Data API's limit on a statement's result (ResultSize); a larger one fails the statement. */
  maxResultBytes: number;
}

/**
 * The Data API's words for a result over its limit, from its troubleshooting page; how the service
 * reports it is not documented, and the emulator ends the statement FAILED with them.
 */
export const RESULT_SIZE_LIMIT_MESSAGE = 'Database response exceeded size limit';

/** The text of an engine failure, worded as Redshift words it (`ERROR: ...`). */
export function engineMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return /^(ERROR|FATAL|PANIC):/.test(message) ? message : `ERROR: ${message}`;
}

function setStatus(store: Store, statement: Statement, status: StatementStatus): void {
  statement.status = status;
  statement.updatedAt = store.clock();
  if (status === 'STARTED') statement.startedAt = statement.updatedAt;
}

const end = (store: Store, statement: Statement, status: StatementStatus, error?: string) =>
  finish(statement, status, store.clock(), error);

/**
 * A statement's stop request, read fresh: a stop can arrive while the engine runs the statement,
 * which a check made before that (and TypeScript's narrowing of it) does not see.
 */
function stopRequestOf(statement: Statement): Statement['stopRequested'] {
  return statement.stopRequested;
}

/** Holds the caller until the statement ends or `waitSeconds` pass (long polling), on the stack's clock. */
export async function waitForEnd(
  store: Store,
  statement: Statement,
  waitSeconds: number | undefined,
): Promise<void> {
  if (!waitSeconds || TERMINAL.has(statement.status) || store.closed) return;
  const ended = new AbortController();
  const wake = () => ended.abort();
  statement.waiters.add(wake);
  try {
    await store.time.sleep(waitSeconds * 1000, ended.signal);
  } finally {
    statement.waiters.delete(wake);
  }
}

/** Runs one part; true when it finished, false when it failed or the statement ended. */
async function runPart(
  { store, controls, maxResultBytes }: RunnerContext,
  statement: Statement,
  part: Part,
  connection: EngineConnection,
): Promise<boolean> {
  if (TERMINAL.has(statement.status)) return false;
  if (statement.stopRequested) {
    // Stopped while an earlier step of it (a batch's BEGIN) could not be: it stops here.
    end(store, statement, statement.stopRequested.status, statement.stopRequested.error);
    return false;
  }
  const startedAt = store.clock();
  Object.assign(part, {
    status: 'STARTED',
    startedAt,
    updatedAt: startedAt,
    queryId: store.nextQueryId++,
    queryUuid: randomUUID(),
  });
  try {
    // The engine commits the statement only if it has not been stopped meanwhile.
    const result = await runRedshiftStatement(connection, part.bound, {
      commitIf: () => {
        // Stopped while the engine ran it, when the engine could not be interrupted.
        if (TERMINAL.has(statement.status) || stopRequestOf(statement)) return false;
        // A batch's parts commit with the batch, whose own COMMIT the engine cannot undo.
        if (!statement.isBatch) statement.committing = true;
        return true;
      },
      ran: () => controls.pass(statement, 'RAN'),
    });
    if (statement.committing) {
      // Committed: from here on a stop finds it done, whatever is left to record.
      const heldCommitted = controls.pass(statement, 'COMMITTED');
      if (heldCommitted) await heldCommitted;
    }
    const catalog =
      result.hasResultSet && !TERMINAL.has(statement.status)
        ? await columnCatalogOf(connection, result.columns)
        : undefined;
    // Cancelled or its session closed meanwhile: the result is discarded.
    if (TERMINAL.has(statement.status)) return false;
    const resultSize = result.hasResultSet ? resultSizeOf(result.rows) : -1;
    if (resultSize > maxResultBytes) throw new Error(RESULT_SIZE_LIMIT_MESSAGE);
    const endedAt = store.clock();
    Object.assign(part, {
      status: 'FINISHED',
      updatedAt: endedAt,
      endedAt,
      hasResultSet: result.hasResultSet,
      resultRows: result.rowCount,
      resultSize,
      result: result.hasResultSet
        ? {
            columns: result.columns,
            rows: result.rows,
            metadata: result.columns.map((column) => columnMetadataOf(column, catalog?.(column))),
          }
        : undefined,
    });
    return true;
  } catch (error) {
    if (TERMINAL.has(statement.status)) return false;
    const endedAt = store.clock();
    Object.assign(part, {
      status: 'FAILED',
      updatedAt: endedAt,
      endedAt,
      error: engineMessage(error),
    });
    // Stopped when it could not be undone, and then it failed after all (a server's cancel
    // reached it): nothing of it committed, so it ends as the stop said.
    const stop = stopRequestOf(statement);
    if (stop) end(store, statement, stop.status, stop.error ?? part.error);
    return false;
  }
}

async function runBatch(
  context: RunnerContext,
  statement: Statement,
  connection: EngineConnection,
): Promise<void> {
  const { store } = context;
  const inTransaction = statement.executionMode !== 'AUTO_COMMIT';
  if (inTransaction) await connection.run('BEGIN', [], { batchControl: true });
  let failed: Part | undefined;
  for (const part of statement.parts) {
    if (!(await runPart(context, statement, part, connection))) {
      failed = part;
      break;
    }
  }
  if (inTransaction) {
    if (failed || TERMINAL.has(statement.status)) {
      await connection.run('ROLLBACK', [], { batchControl: true }).catch(() => undefined);
    } else {
      // From here on the batch ends as its COMMIT ends: no stop can undo it.
      statement.committing = true;
      try {
        await connection.run('COMMIT', [], { batchControl: true });
      } catch (error) {
        end(store, statement, 'FAILED', engineMessage(error));
        return;
      }
      const heldCommitted = context.controls.pass(statement, 'COMMITTED');
      if (heldCommitted) await heldCommitted;
    }
  }
  if (failed?.status === 'FAILED') end(store, statement, 'FAILED', failed.error);
  else end(store, statement, 'FINISHED');
}

/**
 * A session the test controls put in a failed transaction: what a server answers there, without
 * the engine (see EmulatorControls.failSessionTransaction). A transaction's end clears it.
 */
function answerFailedTransaction(store: Store, statement: Statement, session: Session): void {
  const ending =
    statement.parts.length === 1 && isTransactionControl(statement.parts[0]?.sql ?? '');
  const keyword = (statement.parts[0]?.sql ?? '').trim().split(/\s+/)[0]?.toUpperCase() ?? '';
  if (!statement.isBatch && ending && ['ROLLBACK', 'ABORT', 'END', 'COMMIT'].includes(keyword)) {
    session.transactionFailed = false;
    const [part] = statement.parts;
    if (part) Object.assign(part, { status: 'FINISHED', endedAt: store.clock() });
    end(store, statement, 'FINISHED');
    return;
  }
  end(store, statement, 'FAILED', `ERROR: ${FAILED_TRANSACTION_MESSAGE}`);
}

/** Whether the warehouse has this user: a login role that is not the engine's superuser. */
async function userExists({ store, engine }: RunnerContext, dbUser: string): Promise<boolean> {
  if (store.knownUsers.has(dbUser)) return true;
  const found = await engine.admin(
    'SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1 AND rolcanlogin AND NOT rolsuper',
    [dbUser],
  );
  if (found.rows.length > 0) store.knownUsers.add(dbUser);
  return found.rows.length > 0;
}

/**
 * Connects as the statement's user, or fails as a login to Redshift fails for a user that does
 * not exist (see the emulator's module comment).
 */
async function connectAs(
  context: RunnerContext,
  target: ConnectionTarget,
): Promise<EngineConnection> {
  const { dbUser } = target;
  checkDbUser(dbUser);
  if (!(await userExists(context, dbUser))) {
    // Redshift Serverless creates the user it derives from an IAM identity at its first login.
    if (dbUser === SERVERLESS_IAM_DB_USER && !target.secretArn)
      await context.engine.createUser(dbUser);
    else
      throw new EngineError(
        target.secretArn
          ? `FATAL: password authentication failed for user "${dbUser}"`
          : `FATAL: user "IAM:${dbUser}" does not exist`,
        UNKNOWN_USER_SQLSTATE,
      );
  }
  return context.engine.connect(dbUser);
}

/**
 * The connection a statement runs on: its session's (opened by its first statement) or its own.
 * Both pay the controls' connect latency: a statement without a session connects and
 * authenticates as a session's first statement does, which is the cost a session's later
 * statements skip.
 */
function connectionFor(
  context: RunnerContext,
  statement: Statement,
  session: Session | undefined,
): Promise<EngineConnection> {
  if (!session) return connectAfterLatency(context, statement.target);
  session.connection ??= connectAfterLatency(context, session.target);
  return session.connection;
}

async function connectAfterLatency(
  context: RunnerContext,
  target: ConnectionTarget,
): Promise<EngineConnection> {
  const latency = context.controls.connectLatencyMs;
  if (latency > 0) await new Promise((resolve) => setTimeout(resolve, latency));
  return connectAs(context, target);
}

/**
 * Runs a statement the operations have just created, to its end. Never rejects: an engine
 * failure ends the statement FAILED. Its session, if any, is AVAILABLE again once the engine is
 * done with it.
 */
export async function execute(
  context: RunnerContext,
  statement: Statement,
  session: Session | undefined,
): Promise<void> {
  const { store, controls } = context;
  // Let ExecuteStatement answer first, with the statement still SUBMITTED.
  await new Promise((resolve) => setImmediate(resolve));
  let connection: EngineConnection | undefined;
  try {
    if (TERMINAL.has(statement.status)) return;
    setStatus(store, statement, 'PICKED');
    const heldPicked = controls.pass(statement, 'PICKED');
    if (heldPicked) await heldPicked;
    if (TERMINAL.has(statement.status)) return;
    connection = await connectionFor(context, statement, session);
    if (TERMINAL.has(statement.status)) return;
    statement.running = connection;
    statement.redshiftPid = connection.backendPid;
    setStatus(store, statement, 'STARTED');
    const heldStarted = controls.pass(statement, 'STARTED');
    if (heldStarted) await heldStarted;
    if (TERMINAL.has(statement.status)) return;
    if (session?.transactionFailed) {
      answerFailedTransaction(store, statement, session);
    } else if (statement.isBatch) {
      await runBatch(context, statement, connection);
    } else {
      const [part] = statement.parts;
      if (part && (await runPart(context, statement, part, connection)))
        end(store, statement, 'FINISHED');
      else end(store, statement, 'FAILED', part?.error);
    }
  } catch (error) {
    end(store, statement, 'FAILED', engineMessage(error));
    // A session whose connection could not be opened is of no use.
    if (session && !connection) store.closeSession(session, 'its connection could not be opened');
  } finally {
    statement.running = undefined;
    if (session) {
      if (session.status === 'BUSY' && session.currentStatementId === statement.id) {
        const now = store.clock();
        Object.assign(session, {
          status: 'AVAILABLE',
          currentStatementId: undefined,
          idleSince: now,
          updatedAt: now,
        });
      }
    } else {
      await connection?.close().catch(() => undefined);
    }
  }
}
