import type { DescribeStatementResponse } from '@aws-sdk/client-redshift-data';
import { StaleSessionError } from './errors.ts';
import { STEP_FUNCTIONS_LIMITS } from './payload-limits.ts';
import { isFailedTransactionError } from './sql-statements.ts';
import type { QueryState, SessionRef, StatementState, StatementStatus } from './workflow-state.ts';

/**
 * How Spectra waits for a statement, from a second to 24 hours.
 *
 * The Data API can hold a request until the statement ends (`WaitTimeSeconds`, 1-30), so the
 * waiting starts on the server: a short query finishes inside SubmitQuery, and for its first
 * {@link LONG_POLL_PHASE_SECONDS} a running one is polled back to back, each PollStatus held ~20 s
 * on the server, which answers the moment the statement ends. That costs one Task and one Choice
 * (7 history events) per 20 seconds: a 24-hour query would need 30,000 events, more than the
 * 25,000 a Standard execution may hold. So after that phase a Wait state comes before each poll,
 * for {@link WAIT_FRACTION_OF_ELAPSED} of the time since submission (at most
 * {@link MAX_SCHEDULED_WAIT_SECONDS}): the polls thin out as the query ages (about 80 for an
 * hour, 240 for a day), and an end is seen at most 2 % of the elapsed time late (a statement that
 * ends during the long-poll that follows each Wait is seen at once).
 *
 * Nothing waits past the query's deadline: the Wait and the long-polls are cut to it, and the step
 * that reaches it cancels the statement.
 */

// How long SubmitQuery and PollStatus hold their requests on the server is configuration
// (SPECTRA_SUBMIT_WAIT_SECONDS and SPECTRA_POLL_WAIT_SECONDS, in config-table.ts).
/** How long after submission PollStatus long-polls back to back, with no Wait state. */
export const LONG_POLL_PHASE_SECONDS = 300;
/** After that, the Wait before each poll: this fraction of the time since submission. */
export const WAIT_FRACTION_OF_ELAPSED = 0.02;
/**
 * The longest Wait: reached after 12.5 hours, where 2 % of the elapsed time is 15 minutes. The
 * lease on the session is renewed past each Wait (see {@link leaseSecondsAfter}).
 */
export const MAX_SCHEDULED_WAIT_SECONDS = 900;
/** When the server does not hold requests (`SPECTRA_POLL_WAIT_SECONDS=0`), the first Waits back off up to this. */
export const BACKOFF_MAX_SECONDS = 10;
/** Time kept back from a Lambda's deadline for the work after the long-poll. */
const DEADLINE_MARGIN_MS = 8_000;

export const TERMINAL_STATUSES: ReadonlySet<StatementStatus> = new Set([
  'FINISHED',
  'FAILED',
  'ABORTED',
]);

/**
 * A long-poll that ends before the Lambda must return and, given the query's `deadline` as seen
 * `now`, no later than the deadline (rounded up, so that the step that returns has reached it).
 * 0 means "do not long-poll".
 */
export function longPollSeconds(
  preferred: number,
  remainingMs: number | undefined,
  until?: { deadline: string; now: Date },
): number {
  const secondsLeft =
    until === undefined ? Number.POSITIVE_INFINITY : secondsUntil(until.deadline, until.now);
  const byLambda =
    remainingMs === undefined ? preferred : Math.floor((remainingMs - DEADLINE_MARGIN_MS) / 1000);
  return Math.max(0, Math.min(preferred, byLambda, Math.ceil(secondsLeft)));
}

/** What the schedule needs to know about the poll that just returned. */
export interface PollTiming {
  /** The long-poll asked for, in seconds (0: none). */
  requestedWaitSeconds: number;
  /** How long the request took. */
  elapsedMs: number;
  /** Polls so far, this one included. */
  polls: number;
  /** Seconds since the statement was submitted. */
  sinceSubmitSeconds: number;
  /** Seconds until the query's deadline (positive: the deadline has not passed). */
  secondsLeft: number;
}

/**
 * What the Wait state should wait before the next poll. 0 sends the Choice straight back to
 * PollStatus, saving the Wait state's transition: in the first phase, whenever the server held
 * the request. Otherwise an exponential backoff (a server that answers at once) in the first
 * phase, and the growing interval after it; never past the deadline.
 */
export function nextWaitSeconds(timing: PollTiming): number {
  const { requestedWaitSeconds, elapsedMs, polls, sinceSubmitSeconds, secondsLeft } = timing;
  let wait: number;
  if (sinceSubmitSeconds < LONG_POLL_PHASE_SECONDS) {
    const serverHeldRequest =
      requestedWaitSeconds > 0 && elapsedMs >= requestedWaitSeconds * 1000 - 500;
    wait = serverHeldRequest ? 0 : Math.min(BACKOFF_MAX_SECONDS, 2 ** Math.min(polls, 4));
  } else {
    wait = Math.max(
      1,
      Math.min(
        MAX_SCHEDULED_WAIT_SECONDS,
        Math.floor(WAIT_FRACTION_OF_ELAPSED * sinceSubmitSeconds),
      ),
    );
  }
  return Math.min(wait, Math.max(1, Math.ceil(secondsLeft)));
}

/** Seconds from `now` to the query's deadline; 0 or less once it has passed. */
/** A statement as a long-poll (of `requestedWaitSeconds`, begun at `pollStarted`) just left it. */
export interface DescribedPoll {
  status: StatementStatus;
  cancelledFor: StatementState['cancelledFor'];
  requestedWaitSeconds: number;
  pollStarted: Date;
  now: Date;
  /** Polls so far, this one included (0 for the one SubmitQuery makes). */
  polls: number;
  submittedAt: string | undefined;
  deadline: string;
}

/** The wait before the next poll: none for a statement that has ended or was cancelled. */
export function waitAfter(poll: DescribedPoll): number {
  if (TERMINAL_STATUSES.has(poll.status) || poll.cancelledFor !== undefined) return 0;
  return nextWaitSeconds({
    requestedWaitSeconds: poll.requestedWaitSeconds,
    elapsedMs: poll.now.getTime() - poll.pollStarted.getTime(),
    polls: poll.polls,
    sinceSubmitSeconds: secondsSince(poll.submittedAt, poll.now),
    secondsLeft: secondsUntil(poll.deadline, poll.now),
  });
}

export function secondsUntil(deadline: string, now: Date): number {
  return (Date.parse(deadline) - now.getTime()) / 1000;
}

/** Seconds from `since` (ISO 8601) to `now`; 0 when `since` is unknown. */
export function secondsSince(since: string | undefined, now: Date): number {
  return since === undefined ? 0 : Math.max(0, (now.getTime() - Date.parse(since)) / 1000);
}

// ---------------------------------------------------------------------------------------------
// The history budget. A Standard execution ends with States.Runtime at 25,000 history events, and
// no Catch sees that. The state carries an upper bound of the events so far (`historyEventsBound`):
// each step adds the most its states can write, every retry included, so the bound is never below
// the real count. PollStatus stops polling, cancelling the statement, while the bound plus the
// next poll and the end of the execution is still under HISTORY_GUARD_EVENTS. The schedule keeps a
// 24-hour query to a fraction of that (see the README's polling table); the guard is for what the
// schedule does not foresee.
// ---------------------------------------------------------------------------------------------

/**
 * The most events a Task state writes: entered and exited, and per attempt scheduled, started and
 * succeeded or failed; `retries` is the sum of its retriers' MaxAttempts.
 */
export const taskEventsAtMost = (retries: number) => 2 + 3 * (1 + retries);

/** Events of the states, at most, by the retries statemachine/query.asl.json gives them. */
export const HISTORY_EVENTS_AT_MOST = {
  executionStarted: 1,
  /** Acquire Session: the Lambda, transient and pool-exhausted retriers (3 + 4 + 8). */
  acquire: taskEventsAtMost(15),
  /** Every other Task: the Lambda and transient retriers (3 + 4). */
  task: taskEventsAtMost(7),
  choice: 2,
  wait: 2,
  /** Release Session, Fetch Results, Succeed and ExecutionSucceeded; more than the failure path. */
  end: 2 * taskEventsAtMost(7) + 2 + 1,
} as const;

/** Events added by one poll: the Wait before it (counted whether it ran or not), the Task, the Choice. */
export const HISTORY_EVENTS_PER_POLL =
  HISTORY_EVENTS_AT_MOST.wait + HISTORY_EVENTS_AT_MOST.task + HISTORY_EVENTS_AT_MOST.choice;

/** Where the guard stops polling: 1,000 events short of the limit. */
export const HISTORY_GUARD_EVENTS = STEP_FUNCTIONS_LIMITS.historyEvents - 1_000;

/** Whether another poll could take the execution's history past the guard. */
export function historyWouldOverflow(state: Pick<QueryState, 'historyEventsBound'>): boolean {
  return (
    state.historyEventsBound + HISTORY_EVENTS_PER_POLL + HISTORY_EVENTS_AT_MOST.end >
    HISTORY_GUARD_EVENTS
  );
}

/**
 * The limit a statement that is still running has reached at `now`, if any: the query's
 * deadline, or the history's guard (another poll could take the history past it).
 */
export function limitReached(
  state: Pick<QueryState, 'historyEventsBound'> & { deadline: string },
  now: Date,
): NonNullable<StatementState['cancelledFor']> | undefined {
  if (secondsUntil(state.deadline, now) <= 0) return 'timeout';
  return historyWouldOverflow(state) ? 'history' : undefined;
}

/**
 * How long a lease must hold after a poll: past the Wait before the next poll and that poll's
 * long-poll, with the usual margin (`leaseSeconds`) for retries and a vanished execution.
 */
export function leaseSecondsAfter(
  nextWaitSeconds: number,
  pollWaitSeconds: number,
  leaseSeconds: number,
): number {
  return nextWaitSeconds + pollWaitSeconds + leaseSeconds;
}

/**
 * What the state keeps of a statement that ended, from DescribeStatement: when it ended, the
 * engine's error, and for a batch each sub-statement's status and which one failed (its index in
 * `statements`, from 0).
 */
export function endedStatementOf(
  described: DescribeStatementResponse,
): Pick<StatementState, 'error' | 'finishedAt' | 'failedIndex' | 'subStatuses'> {
  const subStatements = described.SubStatements;
  const failedIndex = subStatements?.findIndex((sub) => sub.Status === 'FAILED');
  return {
    error: described.Error || undefined,
    finishedAt: described.UpdatedAt?.toISOString(),
    failedIndex: failedIndex !== undefined && failedIndex >= 0 ? failedIndex : undefined,
    subStatuses: subStatements?.map((sub) => (sub.Status ?? 'SUBMITTED') as StatementStatus),
  };
}

/**
 * A reused session that answers with the failed-transaction error (SQLSTATE 25P02) is stale for
 * Spectra's purposes: the statement did not run, and the session would fail every statement until
 * a ROLLBACK. On a session this execution opened, the error is the statement's own.
 *
 * @throws {StaleSessionError} for that answer on a reused session.
 */
export function refuseFailedTransaction(
  session: SessionRef,
  status: StatementStatus,
  error: string | undefined,
): void {
  if (session.reused && status === 'FAILED' && isFailedTransactionError(error)) {
    throw new StaleSessionError(
      `Session ${session.sessionId} is inside a failed transaction (SQLSTATE 25P02): the statement did not run`,
    );
  }
}
