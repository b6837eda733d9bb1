import type { DescribeStatementResponse } from '@aws-sdk/client-redshift-data';
import * as z from 'zod';
import {
  type Connection,
  clientTokenFor,
  type ExecuteOutcome,
  type ExecuteRequest,
} from '#common/data-api';
import { defaultDeps, type StepDeps } from '#common/deps';
import { QueryAbortedError, QueryTimeoutError } from '#common/errors';
import { type leavesSessionState, parseExecutionInput, sqlTextsOf } from '#common/execution-input';
import { type Invocation, stepHandler, workflowTags } from '#common/handler';
import { countSession, tenantData } from '#common/observability';
import {
  endedStatementOf,
  HISTORY_EVENTS_AT_MOST,
  longPollSeconds,
  refuseFailedTransaction,
  secondsUntil,
  TERMINAL_STATUSES,
  waitAfter,
} from '#common/polling';
import type { SessionRecord } from '#common/session-record';
import { openRequestedSpare } from '#common/session-spare';
import { awaitOpening, chooseSession, execute, holdSlots } from '#common/statement-session';
import { cancelPastLimit, giveBackStopped, settleStatement } from '#common/stopped-statement';
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
  invocation: Invocation = {},
): Promise<QueryState> {
  const { state } = event;
  const { spare } = state.session;
  // Beside the statement, on the same clock: the step ends once both have (see session-spare).
  const opening =
    spare && state.session.sessionId !== null
      ? openRequestedSpare(deps, {
          tenantId: state.query.tenantId,
          dbUser: state.query.dbUser,
          owner: state.executionArn,
          heldSlots: spare.heldSlots,
          connection: connectionOf(state, deps),
        })
      : undefined;
  // What the step started beside its statement and awaits before it ends, so that nothing it
  // began runs on after the Lambda returns: the spare's opening, and a race's (see chooseSession).
  const beside: Promise<unknown>[] = opening ? [opening] : [];
  try {
    return await submitStatement(event, deps, invocation, beside);
  } finally {
    await Promise.allSettled(beside);
  }
}

/** The connection a tenant's statements are sent on when they open a session or run without one. */
function connectionOf(state: QueryState, { config }: StepDeps): Connection {
  return {
    target: config.target,
    database: config.database,
    dbUser: state.query.dbUser,
    secretArn: config.secretArn,
  };
}

async function submitStatement(
  event: SubmitQueryEvent,
  deps: StepDeps,
  { remainingMs }: Invocation,
  beside: Promise<unknown>[],
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
  const connection = connectionOf(state, deps);
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
  if (target.settling) beside.push(target.settling);

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
    await store.giveBack({
      ...tenant,
      owner,
      use: { kind: 'unused' },
      sessions: target.takenHere ? [target.takenHere] : [],
      reservations: [target.reservation],
    });
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
    { deadline: query.deadline, now: pollStarted },
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
      newSession = await store.recordNewSession({
        ...tenant,
        sessionId: executed.openedSessionId,
        owner,
        reservation: target.reservation,
      });
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
      waitSeconds: waitAfter({
        status,
        cancelledFor,
        requestedWaitSeconds: waitSeconds,
        pollStarted,
        now,
        polls: 0,
        submittedAt: submittedAt.toISOString(),
        deadline: query.deadline,
      }),
      polls: 0,
      hasResultSet: described?.HasResultSet ?? outcome.hasResultSet,
      submittedAt: submittedAt.toISOString(),
      ...failure,
      cancelledFor,
    },
  };
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
    await giveBackStopped(deps, settled, state.query.leavesSessionState, {
      tenantId: state.query.tenantId,
      dbUser: state.query.dbUser,
      owner: state.executionArn,
      sessions: [
        { session_id: ref.sessionId, created_at: ref.createdAt ?? deps.clock().toISOString() },
      ],
    });
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
