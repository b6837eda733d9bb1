import { clockReading, type LocalClock, realClock } from '../clock.ts';
import type { ColumnMetadata } from './result-format.ts';
import type { EngineColumn, EngineConnection } from './sql-engine.ts';
import type { BoundSql, SqlParameter } from './sql-text.ts';

/**
 * What the Data API emulator keeps: statements, sessions, client tokens, counters and the
 * database users seen to exist, with the
 * rules by which a statement ends and a session closes. The operations read and change this
 * store; the statement runner drives statements through the engine. Timestamps and waits follow
 * the store's `time` (local/clock.ts).
 */

export type StatementStatus =
  | 'SUBMITTED'
  | 'PICKED'
  | 'STARTED'
  | 'FINISHED'
  | 'FAILED'
  | 'ABORTED';
export type SessionStatus = 'AVAILABLE' | 'BUSY' | 'CLOSED';
export type ResultFormat = 'JSON' | 'CSV';
export type ExecutionMode = 'TRANSACTION' | 'AUTO_COMMIT';

export const TERMINAL: ReadonlySet<StatementStatus> = new Set(['FINISHED', 'FAILED', 'ABORTED']);

/** The local warehouse's one database. */
export const LOCAL_DATABASE = 'dev';

const HOUR_MS = 60 * 60 * 1000;
/** A session is closed 24 h after it was opened, whatever its keep-alive. */
export const SESSION_MAX_LIFETIME_MS = 24 * HOUR_MS;
export const CLIENT_TOKEN_LIFETIME_MS = 8 * HOUR_MS;
/** Statements and their results are kept for 24 h, as the service keeps results. */
const STATEMENT_RETENTION_MS = 24 * HOUR_MS;

/** Where a statement runs and as whom. */
export interface ConnectionTarget {
  dbUser: string;
  database: string;
  clusterIdentifier?: string;
  workgroupName?: string;
  secretArn?: string;
}

export interface StoredResult {
  columns: EngineColumn[];
  metadata: ColumnMetadata[];
  rows: (string | null)[][];
}

/** Where a statement, or one part of a batch, is in its lifecycle. */
interface Progress {
  status: StatementStatus;
  createdAt: number;
  updatedAt: number;
  startedAt?: number;
  endedAt?: number;
  error?: string;
}

/** One SQL text of a statement: a plain statement has one, a batch one per `Sqls` entry. */
export interface Part extends Progress {
  id: string;
  sql: string;
  bound: BoundSql;
  /** 0 until it starts, as the service shows it. */
  queryId: number;
  queryUuid?: string;
  hasResultSet: boolean;
  resultRows: number;
  resultSize: number;
  result?: StoredResult;
}

export interface Statement extends Progress {
  id: string;
  isBatch: boolean;
  parts: Part[];
  target: ConnectionTarget;
  sessionId?: string;
  statementName?: string;
  parameters?: SqlParameter[];
  resultFormat: ResultFormat;
  executionMode?: ExecutionMode;
  redshiftPid: number;
  /** Resolved when the statement reaches a terminal status, to end long polls. */
  waiters: Set<() => void>;
  /** The connection it runs on, while it runs; CancelStatement asks it to stop. */
  running?: EngineConnection;
  /**
   * A cancel or a session close that came while the engine could no longer undo the statement
   * (it was committing): the statement then ends as it really ends, and this says what to report
   * should it still be stopped before it commits.
   */
  stopRequested?: { status: 'ABORTED' | 'FAILED'; error?: string };
  /**
   * The engine was told to commit it: from then on it ends FINISHED (or fails on its own), and no
   * stop takes (see {@link stopStatement} and Store.closeSession).
   */
  committing?: boolean;
  /**
   * Lets the statement go on while a test control holds it before it runs: the engine has nothing
   * of it to interrupt yet, so a stop ends it at once, whatever the engine.
   */
  resumeHeld?: () => void;
}

export interface Session {
  id: string;
  target: ConnectionTarget;
  createdAt: number;
  updatedAt: number;
  keepAliveSeconds: number;
  /** When the last statement ended (or the session was opened): the keep-alive counts from it. */
  idleSince: number;
  status: SessionStatus;
  currentStatementId?: string;
  closedAt?: number;
  /** Opened by the first statement; every later statement runs on the same connection. */
  connection?: Promise<EngineConnection>;
  /** Set by the test controls: answers as a session whose transaction failed, until a ROLLBACK. */
  transactionFailed?: boolean;
}

export interface Counters {
  /** Statements accepted by ExecuteStatement and BatchExecuteStatement (token retries excluded). */
  statementsSubmitted: number;
  sessionsOpened: number;
  /** Statements refused because their session was running another one. */
  busyRejections: number;
  /** Statements that would have opened a session, refused with ActiveSessionsExceededException. */
  sessionLimitRejections: number;
}

/** Ends a statement (once); its unfinished parts end with it. Wakes its long polls. */
export function finish(
  statement: Statement,
  status: StatementStatus,
  now: number,
  error?: string,
): void {
  if (TERMINAL.has(statement.status)) return;
  statement.status = status;
  statement.updatedAt = now;
  statement.endedAt = now;
  if (error !== undefined) statement.error = error;
  for (const part of statement.parts) {
    if (TERMINAL.has(part.status)) continue;
    // The part that was running shares the statement's end; the ones after it never ran.
    const running = part.status === 'STARTED';
    part.status = running && status === 'FAILED' ? 'FAILED' : 'ABORTED';
    part.updatedAt = now;
    part.endedAt = now;
    if (running && error !== undefined) part.error = error;
  }
  for (const wake of [...statement.waiters]) wake();
}

/** Settles when the statement has ended (at once if it has). */
export function endOf(statement: Statement): Promise<void> {
  if (TERMINAL.has(statement.status)) return Promise.resolve();
  return new Promise((resolve) => {
    const ended = () => {
      statement.waiters.delete(ended);
      resolve();
    };
    statement.waiters.add(ended);
  });
}

/**
 * Stops a statement that is cancelled or whose session closes, reporting it as it really ends:
 * ABORTED (or FAILED) now when it has not started, or when the engine can still keep it from
 * committing and stops it at once (a server's cancel); when the engine runs it and cannot be
 * interrupted (PGlite), it stays STARTED until the engine is done and then ends as the stop says,
 * undone (see RunOptions.commitIf); otherwise it is left to end on its own, FINISHED if it
 * commits, so that no status contradicts the data. A statement that commits is not stopped at
 * all: it ends as its commit ends. Its session stays BUSY until the engine is done with it. True
 * when the stop was accepted.
 */
export function stopStatement(
  statement: Statement,
  status: 'ABORTED' | 'FAILED',
  now: number,
  error?: string,
): boolean {
  // Nothing is left to stop, and a failure of its COMMIT says nothing of a stop.
  if (statement.committing) return false;
  statement.stopRequested ??= { status, error };
  if (statement.resumeHeld) {
    finish(statement, status, now, error);
    statement.resumeHeld();
    return true;
  }
  if (statement.running && !statement.running.canStop()) return false;
  // Accepted, but the engine cannot interrupt it (PGlite): it stays STARTED, as it is, until the
  // engine is done with it, and then ends as the stop says, undone.
  if (statement.running && !statement.running.stopsAtOnce()) return true;
  finish(statement, status, now, error);
  return true;
}

export class Store {
  readonly statements = new Map<string, Statement>();
  readonly sessions = new Map<string, Session>();
  readonly clientTokens = new Map<string, { statementId: string; expiresAt: number }>();
  readonly counters: Counters = {
    statementsSubmitted: 0,
    sessionsOpened: 0,
    busyRejections: 0,
    sessionLimitRejections: 0,
  };
  /** Connection closes started in the background (closed sessions), awaited by close(). */
  readonly closing = new Set<Promise<void>>();
  /** Set by the emulator's close(): long polls end and no request is served. */
  closed = false;
  /** The next `RedshiftQueryId`. */
  nextQueryId = 100_000;
  /** Database users seen to exist; users are never dropped, so one seen stays. */
  readonly knownUsers = new Set<string>();

  /** The stack's clock: long-polls and held statements wait on it. */
  readonly time: LocalClock;
  /** Milliseconds since the epoch, on {@link time}. */
  readonly clock: () => number;

  /** `time`: the stack's clock, or a reading of it (tests move it to expire sessions and tokens). */
  constructor(time: LocalClock | (() => number) = realClock) {
    this.time = typeof time === 'function' ? clockReading(time) : time;
    this.clock = () => this.time.now();
  }

  sessionExpiresAt(session: Session, now: number): number {
    const cap = session.createdAt + SESSION_MAX_LIFETIME_MS;
    // While a statement runs, the keep-alive has not started counting yet.
    const idleEnd =
      session.status === 'BUSY'
        ? now + session.keepAliveSeconds * 1000
        : session.idleSince + session.keepAliveSeconds * 1000;
    return Math.min(cap, idleEnd);
  }

  /**
   * Closes a session now: a statement running on it ends FAILED (as far as the engine can still
   * undo it) and its connection is closed in the background, once the engine is done with a
   * statement it could no longer undo: closed under a COMMIT, a connection loses the COMMIT's
   * answer, and the server may have committed.
   */
  closeSession(session: Session, reason: string): void {
    if (session.status === 'CLOSED') return;
    const now = this.clock();
    session.status = 'CLOSED';
    session.closedAt = now;
    session.updatedAt = now;
    const running = session.currentStatementId
      ? this.statements.get(session.currentStatementId)
      : undefined;
    session.currentStatementId = undefined;
    const unstopped =
      running &&
      !TERMINAL.has(running.status) &&
      !stopStatement(
        running,
        'FAILED',
        now,
        `ERROR: The session ${session.id} was closed (${reason}) while the statement was running.`,
      )
        ? running
        : undefined;
    // A cancel that reached a COMMIT could only tear it: the statement is left to commit.
    const committing = unstopped?.committing === true;
    const connection = session.connection;
    if (connection) {
      const done = connection
        .then(async (opened) => {
          if (!committing) await opened.cancel().catch(() => false);
          if (unstopped) await endOf(unstopped);
          await opened.close();
        })
        .catch(() => undefined)
        .finally(() => this.closing.delete(done));
      this.closing.add(done);
    }
  }

  /** Closes the sessions whose time is up and forgets what is past retention. */
  sweep(): void {
    const now = this.clock();
    for (const session of this.sessions.values()) {
      if (session.status === 'CLOSED') {
        if (now - session.createdAt > SESSION_MAX_LIFETIME_MS) this.sessions.delete(session.id);
      } else if (now >= session.createdAt + SESSION_MAX_LIFETIME_MS) {
        this.closeSession(session, 'it reached the 24-hour session limit');
      } else if (session.status === 'AVAILABLE' && now >= this.sessionExpiresAt(session, now)) {
        this.closeSession(session, 'its keep-alive expired');
      }
    }
    for (const [token, entry] of this.clientTokens)
      if (now >= entry.expiresAt) this.clientTokens.delete(token);
    for (const statement of this.statements.values()) {
      if (TERMINAL.has(statement.status) && now - statement.createdAt > STATEMENT_RETENTION_MS)
        this.statements.delete(statement.id);
    }
  }

  openSessions(): Session[] {
    return [...this.sessions.values()].filter((session) => session.status !== 'CLOSED');
  }

  /** Ends every session and every long poll; resolves when the connections are closed. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const session of this.sessions.values())
      this.closeSession(session, 'the emulator stopped');
    for (const statement of this.statements.values())
      for (const wake of [...statement.waiters]) wake();
    await Promise.all([...this.closing]);
  }
}
