import type { Store } from './model.ts';

/**
 * The Data API emulator's test controls: what the `/_spectra/` routes, the benchmark and the
 * suites may change or read in it that the Data API itself offers no call for.
 */

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
}

export interface EmulatorControls {
  /**
   * Closes a session now, as the service does when it reclaims one: its next use gets `Session is
   * not available`, and a statement running on it ends FAILED. False when the id is unknown or
   * the session was closed already.
   */
  expireSession(sessionId: string): boolean;
  /** Delay added when a statement opens a new session (default 0). */
  setSessionOpenLatency(milliseconds: number): void;
  stats(): RedshiftDataEmulatorStats;
  /** The ids of the sessions that are not closed. */
  listSessionIds(): string[];
  /** Back to no added latency. */
  reset(): void;
}

/** What the controls change in how the statement runner runs statements. */
export class RunControls {
  /** Added before a statement opens a new session's connection. */
  sessionOpenLatencyMs = 0;
}

export function createEmulatorControls(store: Store, run: RunControls): EmulatorControls {
  return {
    expireSession(sessionId) {
      const session = store.sessions.get(sessionId);
      if (!session || session.status === 'CLOSED') return false;
      store.closeSession(session, 'it was expired by the test controls');
      return true;
    },

    setSessionOpenLatency(milliseconds) {
      run.sessionOpenLatencyMs = Math.max(0, milliseconds);
    },

    stats() {
      store.sweep();
      return { ...store.counters, activeSessions: store.openSessions().length };
    },

    listSessionIds() {
      store.sweep();
      return store.openSessions().map((session) => session.id);
    },

    reset() {
      run.sessionOpenLatencyMs = 0;
    },
  };
}
