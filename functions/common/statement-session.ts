import {
  type Connection,
  clientTokenFor,
  type ExecuteOutcome,
  type ExecuteRequest,
} from './data-api.ts';
import type { StepDeps } from './deps.ts';
import { QueryAbortedError, StaleSessionError } from './errors.ts';
import { countSession } from './observability.ts';
import { secondsUntil, TERMINAL_STATUSES } from './polling.ts';
import { raceForSession } from './session-race.ts';
import type { SessionRecord } from './session-record.ts';
import { reservationNeedsRenewal, type SlotReservation } from './slot-reservation.ts';
import type { QueryState, SessionRef, StatementStatus } from './workflow-state.ts';

/**
 * Where SubmitQuery's statement runs, and the send itself: the session AcquireSession leased, a
 * session given back while a new one opens, a new one on the slots AcquireSession reserved, or
 * none; the slots made to hold while the step runs; a pooled session's opening waited for; and
 * ExecuteStatement, without a session when the Data API is at its session limit.
 */

/** Where the statement is to run, as chosen before the submission is recorded. */
export interface SessionTarget {
  ref: SessionRef;
  mode: ExecuteRequest['session'];
  /** The slots of a session still to be opened. */
  reservation?: SlotReservation;
  /** A session this invocation leased (given back if the run turns out stopped). */
  takenHere?: SessionRecord;
  /** The pooled session's opening `select 1`, which may still be running. */
  warmupStatementId?: string;
  /**
   * What choosing the session left running beside the statement (a race's opening, stopped and
   * given back to the pool): the step awaits it before it ends. Never rejects.
   */
  settling?: Promise<void>;
}

export const SESSIONLESS: SessionRef = { sessionId: null, reused: false, sessionless: true };
/** A session that takes longer than this to open is not waited for any more. */
const RACE_MAX_WAIT_MS = 30_000;
/** Kept back from the Lambda's deadline for the submission and its long-poll after the wait. */
const RACE_DEADLINE_MARGIN_MS = 15_000;

export async function chooseSession(
  state: QueryState,
  deps: StepDeps,
  connection: Connection,
  remainingMs: number | undefined,
): Promise<SessionTarget> {
  const { session, query } = state;
  if (session.sessionId !== null) {
    return {
      ref: { sessionId: session.sessionId, reused: session.reused, createdAt: session.createdAt },
      mode: { reuse: session.sessionId },
      warmupStatementId: session.warmupStatementId,
    };
  }
  if (session.reservation === undefined || query.leavesSessionState)
    return { ref: SESSIONLESS, mode: 'none' };
  if (session.sessionsLeased) return raceWhileOpening(state, deps, connection, remainingMs);
  // Renewed, if need be, once the submission is recorded (see holdSlots).
  return {
    ref: { sessionId: null, reused: false },
    mode: { open: { keepAliveSeconds: deps.config.sessionKeepAliveSeconds } },
    reservation: session.reservation,
  };
}

/**
 * Makes sure the slots a new session is to be opened on hold for as long as this step can run:
 * renewed, unless they are this run's own reservation, as AcquireSession wrote it, young, and no
 * earlier invocation of this submission ran (one may have given them back: the Data API was at
 * its session limit, and the statement then failed). A redriven run's reservation is renewed too:
 * its earlier run's failure path gave it back. Slots that were lost open nothing: the query runs
 * without a session.
 */
export async function holdSlots(
  state: QueryState,
  deps: StepDeps,
  target: SessionTarget,
  begun: { previous: unknown; heldReservation: boolean },
): Promise<void> {
  const { reservation } = target;
  if (reservation === undefined) return;
  if (
    begun.heldReservation &&
    begun.previous === undefined &&
    !reservationNeedsRenewal(reservation, deps.clock())
  )
    return;
  const { tenantId, dbUser } = state.query;
  const renewed = await deps.store.slots.renew(tenantId, dbUser, reservation);
  if (renewed !== undefined) {
    target.reservation = renewed;
    return;
  }
  deps.telemetry.logger.warn(
    'The slots reserved for this query are no longer held; it runs without a session',
  );
  target.ref = SESSIONLESS;
  target.mode = 'none';
  target.reservation = undefined;
}

/** Every session of the pool was leased: a new one is opened, and the first session ready taken. */
async function raceWhileOpening(
  state: QueryState,
  deps: StepDeps,
  connection: Connection,
  remainingMs: number | undefined,
): Promise<SessionTarget> {
  const { query, session } = state;
  const { telemetry } = deps;
  const reservation = session.reservation as SlotReservation;
  const secondsLeft = secondsUntil(query.deadline, deps.clock());
  const raced = await raceForSession(deps, {
    tenantId: query.tenantId,
    dbUser: query.dbUser,
    owner: state.executionArn,
    run: state.run ?? 0,
    reservation,
    connection,
    clientToken: clientTokenFor(state.executionArn, state.submitAttempt, {
      run: state.run ?? 0,
      purpose: 'open',
    }),
    // Never past the query's deadline either: the statement is sent after the wait.
    budgetMs: Math.max(
      0,
      Math.min(
        RACE_MAX_WAIT_MS,
        remainingMs === undefined ? RACE_MAX_WAIT_MS : remainingMs - RACE_DEADLINE_MARGIN_MS,
        secondsLeft * 1000,
      ),
    ),
    lifeNeededSeconds: Math.ceil(secondsLeft),
  });
  telemetry.logger.info('Waited for a session while opening one', {
    outcome: raced.kind,
    waitedMs: raced.waitedMs,
  });
  if (raced.kind === 'stopped')
    throw new QueryAbortedError('The execution was stopped before its statement was submitted');
  if (raced.kind === 'none') {
    if (raced.reason === 'session-limit') countSession(telemetry, 'SessionLimitReached');
    countSession(telemetry, 'SessionMiss');
    return { ref: SESSIONLESS, mode: 'none' };
  }
  const record = raced.session;
  // The query's statement has its session: a failure to give back what the race opened must not
  // fail it. Logged; what the opening held is kept until it lapses (see openOnReservation).
  const settling =
    raced.kind === 'pooled'
      ? raced.settling.catch((error: unknown) => {
          telemetry.logger.warn(
            'Could not give back the session opened while waiting; it is kept until it lapses',
            { error: error instanceof Error ? error.name : String(error) },
          );
        })
      : undefined;
  countSession(telemetry, raced.kind === 'pooled' ? 'SessionHit' : 'SessionMiss');
  if (raced.kind === 'opened') countSession(telemetry, 'SessionCreated');
  return {
    ref: {
      sessionId: record.session_id,
      reused: raced.kind === 'pooled',
      createdAt: record.created_at,
    },
    mode: { reuse: record.session_id },
    takenHere: record,
    // A session given back may be another execution's new one, whose opening is still running.
    warmupStatementId: raced.kind === 'pooled' ? record.warmup_statement_id : undefined,
    settling,
  };
}

/**
 * Waits for a pooled session's opening `select 1` to end before submitting on it. One that did not
 * finish leaves the session of no use: the query goes on as on a stale session.
 */
export async function awaitOpening(
  statementId: string,
  ref: SessionRef,
  deps: StepDeps,
): Promise<void> {
  for (;;) {
    const described = await deps.dataApi.describe(statementId, 5);
    const status = described.Status as StatementStatus | undefined;
    if (status === 'FINISHED') return;
    if (status !== undefined && TERMINAL_STATUSES.has(status))
      throw new StaleSessionError(
        `Session ${ref.sessionId} was opened by a statement that ended ${status}: it cannot be used`,
      );
  }
}

/**
 * Sends the statement on the chosen session, or opens one on the reserved slots (`openedSessionId`:
 * the caller records it in the pool, leased to this execution); without a session when the Data
 * API is at its session limit.
 */
export async function execute(
  state: QueryState,
  deps: StepDeps,
  target: SessionTarget,
  request: (mode: ExecuteRequest['session']) => ExecuteRequest,
): Promise<{ outcome: ExecuteOutcome; ref: SessionRef; openedSessionId?: string }> {
  const { dataApi, store, telemetry } = deps;
  const { tenantId, dbUser } = state.query;
  const { reservation } = target;
  if (reservation === undefined)
    return { outcome: await dataApi.execute(request(target.mode)), ref: target.ref };

  let outcome: ExecuteOutcome;
  try {
    outcome = await dataApi.execute(request(target.mode));
  } catch (error) {
    // Kept on any other error: a retry of this step sends the same ClientToken and may get the
    // session the failed call opened; the failure path gives the slots back otherwise.
    if (!(error instanceof Error) || error.name !== 'ActiveSessionsExceededException') throw error;
    await store.giveBackUnlessHeld(tenantId, dbUser, reservation);
    countSession(telemetry, 'SessionLimitReached');
    telemetry.logger.warn(
      'The Data API is at its session limit; running this query without a session',
      { error: error.name },
    );
    return { outcome: await dataApi.execute(request('none')), ref: SESSIONLESS };
  }
  if (outcome.sessionId === undefined) {
    await store.giveBackUnlessHeld(tenantId, dbUser, reservation);
    return { outcome, ref: SESSIONLESS };
  }
  return { outcome, ref: target.ref, openedSessionId: outcome.sessionId };
}
