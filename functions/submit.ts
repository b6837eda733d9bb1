import type { DescribeStatementResponse } from '@aws-sdk/client-redshift-data';
import * as z from 'zod';
import {
  type Connection,
  clientTokenFor,
  type ExecuteOutcome,
  type ExecuteRequest,
} from '#common/data-api';
import { defaultDeps, type StepDeps } from '#common/deps';
import { QueryAbortedError, QueryTimeoutError, StaleSessionError } from '#common/errors';
import { type leavesSessionState, parseExecutionInput, sqlTextsOf } from '#common/execution-input';
import { type Invocation, stepHandler, workflowTags } from '#common/handler';
import { countSession, tenantData } from '#common/observability';
import {
  endedStatementOf,
  HISTORY_EVENTS_AT_MOST,
  longPollSeconds,
  nextWaitSeconds,
  refuseFailedTransaction,
  secondsSince,
  secondsUntil,
  TERMINAL_STATUSES,
} from '#common/polling';
import { raceForSession } from '#common/session-race';
import { reservationNeedsRenewal, type SlotReservation } from '#common/session-slots';
import type { SessionRecord } from '#common/session-store';
import {
  cancelPastLimit,
  giveBackStoppedSession,
  settleStatement,
} from '#common/stopped-statement';
import {
  type QueryState,
  queryStateSchema,
  type SessionRef,
  type StatementState,
  type StatementStatus,
} from '#common/workflow-state';

/**
 * What the state machine passes: the execution input, which holds the SQL and its parameters (the
 * workflow's state does not carry them, so that it stays small whatever the SQL), and the state.
 */
const submitEventSchema = z.object({ request: z.unknown(), state: queryStateSchema });
export type SubmitQueryEvent = z.infer<typeof submitEventSchema>;

/**
 * Submits the tenant's SQL to the Data API: on the leased session when AcquireSession found one
 * (only `Sql` and `SessionId` are sent), otherwise on a new session opened on the slots
 * AcquireSession reserved and recorded in the pool, leased to this execution. When every session
 * of the tenant was leased, a session given back meanwhile is taken if it comes before the new one
 * is ready (see raceForSession). Without reserved slots (the cluster's cap was reached, the SQL
 * leaves state in its session: see {@link leavesSessionState}, or the pool is full of sessions
 * that close before the query's deadline) the query runs without a session; so it does when the
 * Data API is at its session limit (`ActiveSessionsExceededException`). Long-polls briefly (never
 * past the query's deadline) so that a short query ends inside this step.
 *
 * `statements` go as one BatchExecuteStatement on the same session, in one transaction or
 * auto-commit.
 *
 * A stop of the execution stops the statement wherever it lands: the submission is written to the
 * execution's record before ExecuteStatement is sent, and the statement the moment it answers,
 * before the long-poll (DescribeStatement) that waits for it; each write is conditional on the run
 * not being stopped, so either the clean-up finds the statement and cancels it, or this step finds
 * the stop and cancels it itself (see ExecutionRecords).
 *
 * A statement still running when the long-poll reaches the deadline is cancelled: the state says
 * so (`cancelledFor`), and the state machine ends the execution with QueryTimeoutError.
 *
 * @returns the state with `statement` (id, status, how long to wait) and the session used.
 * @throws {QueryTimeoutError} when the deadline passed before the statement was sent (a resubmission
 * after stale sessions, or a redrive); nothing runs.
 * @throws {StaleSessionError} when the Data API refuses the reused session, or the reused
 * session answers that it is inside a failed transaction.
 * @throws {QueryAbortedError} when the execution's run was stopped: nothing was submitted, or what
 * was is cancelled.
 * @throws {TransientServiceError} on throttling or server faults that outlasted the SDK's retries.
 */
export async function submitQuery(
  event: SubmitQueryEvent,
  deps: StepDeps,
  { remainingMs }: Invocation = {},
): Promise<QueryState> {
  const { request: executionInput, state } = event;
  const { query, session } = state;
  const { config, dataApi, store, telemetry } = deps;
  const run = state.run ?? 0;
  const owner = state.executionArn;
  const tenant = { tenantId: query.tenantId, dbUser: query.dbUser };
  // Validated by AcquireSession already; read again here, where the SQL is needed.
  const input = parseExecutionInput(executionInput);

  const started = deps.clock();
  const secondsLeft = secondsUntil(query.deadline, started);
  if (secondsLeft <= 0) {
    throw new QueryTimeoutError(
      `The query's timeout (timeoutSeconds ${query.timeoutSeconds}) passed before its statement was sent; nothing ran`,
    );
  }
  const connection: Connection = {
    target: config.target,
    database: config.database,
    dbUser: query.dbUser,
    secretArn: config.secretArn,
  };
  // One token for every call of this submission, whichever session mode it ends up using: if the
  // session-limit fallback ran the statement and the Lambda is then retried, the retry's first
  // call (opening a session again) gets the statement that already ran instead of a second one.
  const clientToken = clientTokenFor(owner, state.submitAttempt, { run });
  const request = (mode: ExecuteRequest['session']): ExecuteRequest => ({
    sql: input.statements ?? (input.sql as string),
    executionMode: input.statements
      ? input.transaction === false
        ? 'AUTO_COMMIT'
        : 'TRANSACTION'
      : undefined,
    parameters: input.parameters,
    statementName: input.statementName,
    clientToken,
    // No long-poll here: the statement is written to the execution's record before it is waited
    // for, so that a stop meanwhile finds it (the long-poll is DescribeStatement's, below).
    waitSeconds: 0,
    session: mode,
    connection,
  });

  // 1. The session to run on: the leased one, one given back or a new one, or none.
  const target = await chooseSession(state, deps, connection, remainingMs);

  // 2. Written before anything is sent: a stop from now on finds the submission. Not for the
  // session Acquire leased: there the step takes nothing a clean-up could miss, and the clean-up
  // finds the submission by this step's input in the history.
  const submission = { run, attempt: state.submitAttempt, sessionId: target.ref.sessionId };
  const begun =
    session.sessionId !== null
      ? { previous: undefined, heldReservation: false }
      : await store.executions.beginSubmission(
          owner,
          tenant,
          submission,
          target.reservation?.claim,
        );
  if (begun === false) {
    // Stopped: what this step took since the stop is given back; the clean-up has what it had.
    if (target.takenHere) await store.unlease(target.takenHere, owner);
    if (target.reservation)
      await store.giveBackUnlessHeld(tenant.tenantId, tenant.dbUser, target.reservation);
    throw new QueryAbortedError('The execution was stopped before its statement was submitted');
  }
  // A retried invocation of this submission chose its session already: the statement (by its
  // ClientToken) runs there.
  const earlier = begun.previous?.sessionId;
  if (earlier && earlier !== target.ref.sessionId) {
    if (target.takenHere) await store.unlease(target.takenHere, owner);
    target.ref = { sessionId: earlier, reused: target.ref.reused };
    target.mode = { reuse: earlier };
    target.reservation = undefined;
    target.warmupStatementId = undefined;
  }
  await holdSlots(state, deps, target, begun);

  // 3. ExecuteStatement, answering at once.
  if (target.warmupStatementId !== undefined)
    await awaitOpening(target.warmupStatementId, target.ref, deps);
  const submittedAt = deps.clock();
  const executed = await execute(state, deps, target, request);
  const { outcome } = executed;

  // 4. A session it opened, then the statement, recorded while the long-poll (within what the
  // Lambda has left and never past the query's deadline) begins: DescribeStatement only reads,
  // and the statement runs whether it is waited for or not. Either the record takes the statement
  // before a stop, and the clean-up cancels it, or the write finds the stop, and this step
  // cancels it. The session goes first, and only this step writes it: a stop's clean-up that
  // reads the pool before it is there finds the stop written already, so the statement's record
  // fails and this step gives the session back; had the clean-up written the session itself, it
  // could drop it and give its slots back before this write lands, and the write would put it
  // back in the pool on slots another session may hold by then.
  const pollStarted = deps.clock();
  const spentMs = pollStarted.getTime() - started.getTime();
  const waitSeconds = longPollSeconds(
    config.submitWaitSeconds,
    remainingMs === undefined ? undefined : remainingMs - spentMs,
    secondsUntil(query.deadline, pollStarted),
  );
  const abandonPoll = new AbortController();
  const describing: Promise<DescribeStatementResponse | undefined> =
    outcome.status !== undefined && TERMINAL_STATUSES.has(outcome.status) && waitSeconds === 0
      ? Promise.resolve(undefined)
      : dataApi.describe(outcome.statementId, waitSeconds, abandonPoll.signal);
  // Awaited below; this only keeps a failure that comes before then from going unhandled.
  describing.catch(() => undefined);
  let newSession: SessionRecord | undefined;
  let statementRecorded: boolean;
  try {
    if (executed.openedSessionId !== undefined && target.reservation !== undefined)
      newSession = await store.recordNewSession(
        tenant.tenantId,
        tenant.dbUser,
        executed.openedSessionId,
        owner,
        target.reservation,
      );
    statementRecorded = await store.executions.recordStatement(
      owner,
      submission,
      outcome.statementId,
    );
  } catch (error) {
    abandonPoll.abort();
    throw error;
  }
  const ref: SessionRef = newSession
    ? { sessionId: newSession.session_id, reused: false, createdAt: newSession.created_at }
    : executed.ref;
  if (newSession) countSession(telemetry, 'SessionCreated');
  if (!statementRecorded) {
    abandonPoll.abort();
    await describing.catch(() => undefined);
    await stopSubmitted(state, deps, outcome, ref);
    throw new QueryAbortedError(
      `The execution was stopped while its statement was submitted; statement ${outcome.statementId} is cancelled`,
    );
  }
  let described = await describing;
  const now = deps.clock();
  let status = (described?.Status ?? outcome.status ?? 'SUBMITTED') as StatementStatus;

  telemetry.logger.info('Submitted statement', {
    statementId: outcome.statementId,
    sessionId: ref.sessionId,
    sessionReused: ref.reused,
    status,
    sqlBytes: sqlTextsOf(input).reduce((sum, text) => sum + Buffer.byteLength(text, 'utf8'), 0),
    statements: input.statements?.length ?? 1,
    parameterCount: input.parameters?.length ?? 0,
    ...tenantData(config, { sql: input.statements ?? input.sql, parameters: input.parameters }),
  });
  let cancelledFor: StatementState['cancelledFor'];
  if (status === 'FAILED' || status === 'ABORTED') {
    // ExecuteStatement does not say why; DescribeStatement does.
    described ??= await dataApi.describe(outcome.statementId, 0);
  } else if (!TERMINAL_STATUSES.has(status) && secondsUntil(query.deadline, now) <= 0) {
    ({ described, cancelledFor } = await cancelPastLimit(
      deps,
      outcome.statementId,
      'timeout',
      described,
    ));
    status = (described.Status ?? status) as StatementStatus;
  }
  const ended = described !== undefined && TERMINAL_STATUSES.has(status);
  const failure = ended ? endedStatementOf(described as DescribeStatementResponse) : undefined;
  if (status === 'FAILED') refuseFailedTransaction(ref, status, failure?.error);
  return {
    ...state,
    session: ref,
    error: undefined,
    historyEventsBound:
      state.historyEventsBound + HISTORY_EVENTS_AT_MOST.task + HISTORY_EVENTS_AT_MOST.choice,
    statement: {
      statementId: outcome.statementId,
      status,
      waitSeconds:
        TERMINAL_STATUSES.has(status) || cancelledFor !== undefined
          ? 0
          : nextWaitSeconds({
              requestedWaitSeconds: waitSeconds,
              elapsedMs: now.getTime() - pollStarted.getTime(),
              polls: 0,
              sinceSubmitSeconds: secondsSince(submittedAt.toISOString(), now),
              secondsLeft: secondsUntil(query.deadline, now),
            }),
      polls: 0,
      hasResultSet: described?.HasResultSet ?? outcome.hasResultSet,
      submittedAt: submittedAt.toISOString(),
      ...failure,
      cancelledFor,
    },
  };
}

/** Where the statement is to run, as chosen before the submission is recorded. */
interface SessionTarget {
  ref: SessionRef;
  mode: ExecuteRequest['session'];
  /** The slots of a session still to be opened. */
  reservation?: SlotReservation;
  /** A session this invocation leased (given back if the run turns out stopped). */
  takenHere?: { pool_id: string; session_id: string };
  /** The pooled session's opening `select 1`, which may still be running. */
  warmupStatementId?: string;
}

const SESSIONLESS: SessionRef = { sessionId: null, reused: false, sessionless: true };
/** A session that takes longer than this to open is not waited for any more. */
const RACE_MAX_WAIT_MS = 30_000;
/** Kept back from the Lambda's deadline for the submission and its long-poll after the wait. */
const RACE_DEADLINE_MARGIN_MS = 15_000;

async function chooseSession(
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
async function holdSlots(
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
  };
}

/**
 * Waits for a pooled session's opening `select 1` to end before submitting on it. One that did not
 * finish leaves the session of no use: the query goes on as on a stale session.
 */
async function awaitOpening(statementId: string, ref: SessionRef, deps: StepDeps): Promise<void> {
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
async function execute(
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

/**
 * The execution was stopped between the submission and the record of its statement, so the
 * clean-up may not have seen the statement: it is cancelled here, and the session given back as
 * the clean-up gives back a stopped execution's (both may; each step of it is conditional).
 */
async function stopSubmitted(
  state: QueryState,
  deps: StepDeps,
  outcome: ExecuteOutcome,
  ref: SessionRef,
): Promise<void> {
  const settled = await settleStatement(deps, outcome.statementId, true);
  if (ref.sessionId !== null) {
    await giveBackStoppedSession(
      deps,
      {
        tenantId: state.query.tenantId,
        dbUser: state.query.dbUser,
        sessionId: ref.sessionId,
        createdAt: ref.createdAt ?? deps.clock().toISOString(),
      },
      state.executionArn,
      settled,
      state.query.leavesSessionState,
    );
  }
  deps.telemetry.logger.warn(
    'The execution was stopped while submitting; cancelled its statement',
    {
      statementId: outcome.statementId,
      sessionId: ref.sessionId,
      statement: settled.kind,
    },
  );
}

export const handler = stepHandler(submitQuery, {
  step: 'SubmitQuery',
  state: submitEventSchema,
  deps: defaultDeps,
  tags: ({ state }) => workflowTags(state),
});
