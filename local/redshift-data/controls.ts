import type { LocalClock } from '../clock.ts';
import { Holds } from '../holds.ts';
import { createTenantUser, type TenantUser } from './demo-data.ts';
import { endOf, type Statement, type Store, TERMINAL } from './model.ts';
import type { SqlEngine } from './sql-engine.ts';

/**
 * The Data API emulator's test controls: what the `/_spectra/` routes, the benchmark and the
 * suites may change or read in it that the Data API itself offers no call for. Holding a
 * statement lets a test decide when it ends, instead of guessing how long a `pg_sleep` takes on a
 * loaded machine.
 */

/**
 * Where a held statement waits: PICKED before its connection opens, STARTED before the engine
 * runs it, RAN (still STARTED) once the engine has run it and before its outcome is committed and
 * recorded, COMMITTED (still STARTED) once the engine has committed it and before the emulator
 * records that it finished. A stop of a statement held PICKED or STARTED ends it at once; one held
 * RAN is answered as a stop while the engine runs the statement is (see `stopStatement` in the
 * model): on PGlite it stays STARTED until released, and then ends as the stop said, undone. One
 * held COMMITTED cannot be stopped: it ends FINISHED once released.
 */
export type HoldStatus = 'PICKED' | 'STARTED' | 'RAN' | 'COMMITTED';

export const HOLD_STATUSES: readonly HoldStatus[] = ['PICKED', 'STARTED', 'RAN', 'COMMITTED'];

export interface RedshiftDataEmulatorStats {
  /** Statements accepted by ExecuteStatement and BatchExecuteStatement (token retries excluded). */
  statementsSubmitted: number;
  sessionsOpened: number;
  /** Statements refused because their session was running another one. */
  busyRejections: number;
  /** Statements that would have opened a session, refused with ActiveSessionsExceededException. */
  sessionLimitRejections: number;
  /** Sessions not closed. */
  activeSessions: number;
  /** Statements waiting, held by {@link EmulatorControls.holdStatements}, to be released. */
  statementsHeld: number;
}

export interface EmulatorControls {
  /**
   * Closes a session now, as the service does when it reclaims one: its next use gets `Session is
   * not available`, and a statement running on it ends FAILED. False when the id is unknown or
   * the session was closed already.
   */
  expireSession(sessionId: string): boolean;
  /**
   * Puts a session in the state of one whose transaction failed: every statement on it ends FAILED
   * with Redshift's `current transaction is aborted, ...` (SQLSTATE 25P02) until a ROLLBACK (or
   * ABORT, END, COMMIT), which ends FINISHED and clears it. On PGlite, where no transaction may
   * stay open between statements, this is the only way to the state. False for an unknown or
   * closed session.
   */
  failSessionTransaction(sessionId: string): boolean;
  /**
   * Delay added when a connection opens (default 0): a statement that opens a session, or one
   * that runs without a session, which connects for itself.
   */
  setConnectLatency(milliseconds: number): void;
  /**
   * Holds every statement submitted from now on whose SQL contains `sqlContains`: it stops at
   * `status` (default STARTED) until {@link releaseStatements}, or, with `forSeconds`, for that
   * long after its submission on the stack's clock (then it runs: a statement that takes so long,
   * which on a simulated clock takes no real time). A held statement can be described, cancelled
   * or have its session closed as a running one can.
   */
  holdStatements(sqlContains: string, status?: HoldStatus, forSeconds?: number): void;
  /** Lets the statements `sqlContains` holds go on and holds no more; returns how many it held. */
  releaseStatements(sqlContains: string): number;
  stats(): RedshiftDataEmulatorStats;
  /** The ids of the sessions that are not closed. */
  listSessionIds(): string[];
  /**
   * Creates a tenant's database user with the demo grants, whose row-level security shows it the
   * tenant's rows. Idempotent; true when it created the user.
   */
  createTenantUser(user: TenantUser): Promise<boolean>;
  /** Back to no added latency and no holds (held statements go on). */
  reset(): void;
}

interface Hold {
  status: HoldStatus;
  /** Set: each statement is held this long on the clock, then goes on. Unset: until released. */
  forSeconds?: number;
}

/** What the controls change in how the statement runner runs statements. */
export class RunControls {
  /** Added before a connection opens: a new session's, or a statement's without a session. */
  connectLatencyMs = 0;
  private readonly holds = new Holds<Hold>();
  /** A timed hold's end for each statement it holds, fixed when the statement was submitted. */
  private readonly timed = new WeakMap<Statement, { status: HoldStatus; ended: Promise<void> }>();

  constructor(private readonly clock: LocalClock) {}

  hold(sqlContains: string, status: HoldStatus, forSeconds?: number): void {
    if (!this.holds.get(sqlContains)) this.holds.start(sqlContains, { status, forSeconds });
  }

  /**
   * Called as a statement is submitted: a timed hold that matches it fixes, there and then, when
   * it lets the statement go on (its submission plus the hold's seconds), so that the statement's
   * time on the clock does not depend on how soon the runner reaches the hold. A release lets it
   * go on sooner.
   */
  admit(statement: Statement): void {
    const hold = this.matching(statement, undefined, true);
    const forSeconds = hold?.forSeconds;
    if (hold === undefined || forSeconds === undefined) return;
    const ended = new Promise<void>((resume) => {
      hold.waiting.add(resume);
      this.clock.schedule(statement.createdAt + forSeconds * 1000, () => {
        hold.waiting.delete(resume);
        resume();
        // A simulated clock moves on past this moment only once the statement has ended.
        return endOf(statement);
      });
    });
    this.timed.set(statement, { status: hold.status, ended });
  }

  release(sqlContains: string): number {
    return this.holds.release(sqlContains);
  }

  releaseAll(): void {
    this.holds.releaseAll();
  }

  heldCount(): number {
    return Object.values(this.holds.keptPerKey()).reduce((sum, kept) => sum + kept, 0);
  }

  /**
   * Where the runner lets a statement reach `status`: a promise that resolves once no hold
   * matches it any more, or undefined when none does (the common case costs no wait).
   */
  pass(statement: Statement, status: HoldStatus): Promise<void> | undefined {
    const timed = this.timed.get(statement);
    if (timed !== undefined) return timed.status === status ? timed.ended : undefined;
    const hold = this.matching(statement, status, false);
    if (!hold) return undefined;
    // A stop of the statement lets it go on at once (see Statement.resumeHeld), unless the engine
    // has run it: then the engine is what the stop waits for, or it has committed and no stop takes.
    const stopLetsGo = status === 'PICKED' || status === 'STARTED';
    return this.holds
      .keep(
        hold,
        stopLetsGo
          ? (letGo) => {
              statement.resumeHeld = letGo;
            }
          : undefined,
      )
      .then(() => {
        statement.resumeHeld = undefined;
        return TERMINAL.has(statement.status) ? undefined : this.pass(statement, status);
      });
  }

  /** The hold that applies to the statement: at `status` (any when undefined), timed or not. */
  private matching(statement: Statement, status: HoldStatus | undefined, timed: boolean) {
    return [...this.holds.entries()].find(
      ([sqlContains, each]) =>
        (status === undefined || each.status === status) &&
        (each.forSeconds !== undefined) === timed &&
        statement.parts.some((part) => part.sql.includes(sqlContains)),
    )?.[1];
  }
}

export function createEmulatorControls(
  store: Store,
  run: RunControls,
  engine: SqlEngine,
): EmulatorControls {
  return {
    expireSession(sessionId) {
      const session = store.sessions.get(sessionId);
      if (!session || session.status === 'CLOSED') return false;
      store.closeSession(session, 'it was expired by the test controls');
      return true;
    },

    failSessionTransaction(sessionId) {
      const session = store.sessions.get(sessionId);
      if (!session || session.status === 'CLOSED') return false;
      session.transactionFailed = true;
      return true;
    },

    setConnectLatency(milliseconds) {
      run.connectLatencyMs = Math.max(0, milliseconds);
    },

    holdStatements(sqlContains, status = 'STARTED', forSeconds) {
      run.hold(sqlContains, status, forSeconds);
    },

    releaseStatements(sqlContains) {
      return run.release(sqlContains);
    },

    stats() {
      store.sweep();
      return {
        ...store.counters,
        activeSessions: store.openSessions().length,
        statementsHeld: run.heldCount(),
      };
    },

    listSessionIds() {
      store.sweep();
      return store.openSessions().map((session) => session.id);
    },

    createTenantUser: (user) => createTenantUser(engine, user),

    reset() {
      run.connectLatencyMs = 0;
      run.releaseAll();
    },
  };
}
