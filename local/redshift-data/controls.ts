import { Holds } from '../holds.ts';
import { createTenantUser, type TenantUser } from './demo-data.ts';
import { type Statement, type Store, TERMINAL } from './model.ts';
import type { SqlEngine } from './sql-engine.ts';

/**
 * The Data API emulator's test controls: what the `/_spectra/` routes, the benchmark and the
 * suites may change or read in it that the Data API itself offers no call for. Holding a
 * statement lets a test decide when it ends, instead of guessing how long a `pg_sleep` takes on a
 * loaded machine.
 */

/** Where a held statement waits: PICKED before its connection opens, STARTED before the engine runs it. */
export type HoldStatus = 'PICKED' | 'STARTED';

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
  /** Delay added when a statement opens a new session (default 0). */
  setSessionOpenLatency(milliseconds: number): void;
  /**
   * Holds every statement submitted from now on whose SQL contains `sqlContains`: it stops at
   * `status` (default STARTED) until {@link releaseStatements}. A held statement can be described,
   * cancelled or have its session closed as a running one can.
   */
  holdStatements(sqlContains: string, status?: HoldStatus): void;
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
}

/** What the controls change in how the statement runner runs statements. */
export class RunControls {
  /** Added before a statement opens a new session's connection. */
  sessionOpenLatencyMs = 0;
  private readonly holds = new Holds<Hold>();

  hold(sqlContains: string, status: HoldStatus): void {
    if (!this.holds.get(sqlContains)) this.holds.start(sqlContains, { status });
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
    const hold = [...this.holds.entries()].find(
      ([sqlContains, each]) =>
        each.status === status && statement.parts.some((part) => part.sql.includes(sqlContains)),
    )?.[1];
    if (!hold) return undefined;
    // A stop of the statement lets it go on at once (see Statement.resumeHeld).
    return this.holds
      .keep(hold, (letGo) => {
        statement.resumeHeld = letGo;
      })
      .then(() => {
        statement.resumeHeld = undefined;
        return TERMINAL.has(statement.status) ? undefined : this.pass(statement, status);
      });
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

    setSessionOpenLatency(milliseconds) {
      run.sessionOpenLatencyMs = Math.max(0, milliseconds);
    },

    holdStatements(sqlContains, status = 'STARTED') {
      run.hold(sqlContains, status);
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
      run.sessionOpenLatencyMs = 0;
      run.releaseAll();
    },
  };
}
