import type { DescribeStatementResponse } from '@aws-sdk/client-redshift-data';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import {
  type Connection,
  clientTokenFor,
  type ExecuteOutcome,
  type ExecuteRequest,
} from '#common/data-api';
import { defaultDeps, type StepDeps } from '#common/deps';
import { QueryTimeoutError } from '#common/errors';
import { handlerMiddlewares } from '#common/middlewares';
import { countSession, tagInvocation, tenantData } from '#common/observability';
import {
  cancelPastLimit,
  endedStatementOf,
  HISTORY_EVENTS_AT_MOST,
  longPollSeconds,
  nextWaitSeconds,
  refuseFailedTransaction,
  secondsSince,
  secondsUntil,
  TERMINAL_STATUSES,
} from '#common/polling';
import {
  type leavesSessionState,
  parseExecutionInput,
  parseStepInput,
  type QueryState,
  queryStateSchema,
  type SessionRef,
  type StatementState,
  type StatementStatus,
  sqlTextsOf,
} from '#common/schemas';

/**
 * What the state machine passes: the execution input, which holds the SQL and its parameters (the
 * workflow's state does not carry them, so that it stays small whatever the SQL), and the state.
 */
const submitEventSchema = z.object({ request: z.unknown(), state: queryStateSchema });
export type SubmitQueryEvent = z.input<typeof submitEventSchema>;

/**
 * Submits the tenant's SQL to the Data API: on the leased session when AcquireSession found one
 * (only `Sql` and `SessionId` are sent), otherwise on a new session that is recorded in the pool,
 * leased to this execution. Long-polls briefly (never past the query's deadline) so that a short
 * query ends inside this step.
 *
 * `statements` go as one BatchExecuteStatement on the same session, in one transaction or
 * auto-commit. When the Data API is at its session limit (`ActiveSessionsExceededException`) the
 * query runs without a session instead of failing; so does SQL that leaves state in its session
 * when no pooled session was free (see {@link leavesSessionState}).
 *
 * A statement still running when the long-poll reaches the deadline is cancelled: the state says
 * so (`cancelledFor`), and the state machine ends the execution with QueryTimeoutError.
 *
 * @returns the state with `statement` (id, status, how long to wait) and the session used.
 * @throws {QueryTimeoutError} when the deadline passed before the statement was sent (a resubmission
 * after stale sessions, or a redrive); nothing runs.
 * @throws {StaleSessionError} when the Data API refuses the reused session, or the reused
 * session answers that it is inside a failed transaction.
 * @throws {TransientServiceError} on throttling or server faults that outlasted the SDK's retries.
 */
export async function submitQuery(
  event: unknown,
  deps: StepDeps = defaultDeps,
  remainingMs?: number,
): Promise<QueryState> {
  const { request: executionInput, state } = parseStepInput(
    submitEventSchema,
    event,
    'SubmitQuery',
  );
  const { query, session } = state;
  const { config, dataApi, telemetry } = deps;
  tagInvocation(telemetry, {
    tenantId: query.tenantId,
    executionArn: state.executionArn,
    sessionId: session.sessionId,
  });
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
  const waitSeconds = longPollSeconds(config.submitWaitSeconds, remainingMs, secondsLeft);
  // One token for every call of this submission, whichever session mode it ends up using: if the
  // session-limit fallback ran the statement and the Lambda is then retried, the retry's first
  // call (opening a session again) gets the statement that already ran instead of a second one.
  const clientToken = clientTokenFor(state.executionArn, state.submitAttempt);
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
    waitSeconds,
    session: mode,
    connection,
  });

  let outcome: ExecuteOutcome;
  let nextSession: SessionRef;
  if (session.sessionId !== null) {
    outcome = await dataApi.execute(request({ reuse: session.sessionId }));
    nextSession = session;
  } else if (query.leavesSessionState || session.sessionless) {
    // Its session would be dropped as soon as the statement ends: opening one only adds a
    // session that counts against the Data API's limit until its keep-alive runs out. Or the
    // pool is full of sessions that would close before the query may end (see AcquireSession).
    try {
      outcome = await dataApi.execute(request('none'));
    } finally {
      await deps.store.dropOpeningClaim(query.tenantId, query.dbUser, state.executionArn);
    }
    nextSession = { sessionId: null, reused: false, sessionless: true };
  } else {
    try {
      outcome = await executeOnNewSession(request, deps);
      nextSession = await recordOpenedSession(state, outcome, deps);
    } finally {
      // If AcquireSession claimed the opening of the tenant's first session, the session is in
      // the pool now (or was not opened): the executions waiting for it go on reading the pool.
      await deps.store.dropOpeningClaim(query.tenantId, query.dbUser, state.executionArn);
    }
  }
  const now = deps.clock();

  let status = outcome.status ?? 'SUBMITTED';
  telemetry.logger.info('Submitted statement', {
    statementId: outcome.statementId,
    sessionId: nextSession.sessionId,
    sessionReused: nextSession.reused,
    status,
    sqlBytes: sqlTextsOf(input).reduce((sum, text) => sum + Buffer.byteLength(text, 'utf8'), 0),
    statements: input.statements?.length ?? 1,
    parameterCount: input.parameters?.length ?? 0,
    ...tenantData(config, { sql: input.statements ?? input.sql, parameters: input.parameters }),
  });
  let described: DescribeStatementResponse | undefined;
  let cancelledFor: StatementState['cancelledFor'];
  if (status === 'FAILED' || status === 'ABORTED') {
    // ExecuteStatement does not say why; DescribeStatement does.
    described = await dataApi.describe(outcome.statementId, 0);
  } else if (!TERMINAL_STATUSES.has(status) && secondsUntil(query.deadline, now) <= 0) {
    ({ described, cancelledFor } = await cancelPastLimit(deps, outcome.statementId, 'timeout'));
    status = (described.Status ?? status) as StatementStatus;
  }
  const ended = described !== undefined && TERMINAL_STATUSES.has(status);
  const failure = ended ? endedStatementOf(described as DescribeStatementResponse) : undefined;
  if (status === 'FAILED') refuseFailedTransaction(nextSession, status, failure?.error);
  return {
    ...state,
    session: nextSession,
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
              elapsedMs: now.getTime() - started.getTime(),
              polls: 0,
              sinceSubmitSeconds: secondsSince(started.toISOString(), now),
              secondsLeft: secondsUntil(query.deadline, now),
            }),
      polls: 0,
      hasResultSet: described?.HasResultSet ?? outcome.hasResultSet,
      submittedAt: started.toISOString(),
      ...failure,
      cancelledFor,
    },
  };
}

/**
 * Runs the statement on a new session, or without one when the Data API is at its session limit
 * (`ActiveSessionsExceededException`).
 */
async function executeOnNewSession(
  request: (mode: ExecuteRequest['session']) => ExecuteRequest,
  deps: StepDeps,
): Promise<ExecuteOutcome> {
  const { config, dataApi, telemetry } = deps;
  try {
    return await dataApi.execute(
      request({ open: { keepAliveSeconds: config.sessionKeepAliveSeconds } }),
    );
  } catch (error) {
    if (!(error instanceof Error) || error.name !== 'ActiveSessionsExceededException') throw error;
    countSession(telemetry, 'SessionLimitReached');
    telemetry.logger.warn(
      'The Data API is at its session limit; running this query without a session',
      { error: error.name },
    );
    return dataApi.execute(request('none'));
  }
}

async function recordOpenedSession(
  state: QueryState,
  outcome: ExecuteOutcome,
  deps: StepDeps,
): Promise<SessionRef> {
  if (outcome.sessionId === undefined) return { sessionId: null, reused: false, sessionless: true };
  const { tenantId, dbUser } = state.query;
  const record = await deps.store.recordNewSession(
    tenantId,
    dbUser,
    outcome.sessionId,
    state.executionArn,
  );
  countSession(deps.telemetry, 'SessionCreated');
  // The execution may have been stopped while this ran; its cleanup then read the pool before
  // this lease existed. Give the session back as the cleanup would have (SessionStore.markStopped).
  if (await deps.store.isStopped(state.executionArn)) {
    const session = {
      tenantId,
      dbUser,
      sessionId: outcome.sessionId,
      createdAt: record.created_at,
    };
    const ended = outcome.status !== undefined && TERMINAL_STATUSES.has(outcome.status);
    // A statement still running keeps the session busy: drop it rather than hand it out.
    if (ended) await deps.store.release(session, state.executionArn);
    else await deps.store.invalidate(tenantId, dbUser, outcome.sessionId, state.executionArn);
    deps.telemetry.logger.warn(
      'The execution was stopped while submitting; gave the session back',
      {
        sessionId: outcome.sessionId,
        statementEnded: ended,
      },
    );
  }
  return { sessionId: outcome.sessionId, reused: false, createdAt: record.created_at };
}

export const handler = middy<unknown, QueryState, Error, Context>()
  .use(handlerMiddlewares)
  .handler((event, context) =>
    submitQuery(event, defaultDeps, context.getRemainingTimeInMillis?.()),
  );
