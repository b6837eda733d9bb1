import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import {
  type Connection,
  clientTokenFor,
  type ExecuteOutcome,
  type ExecuteRequest,
} from '#common/data-api';
import { defaultDeps, type StepDeps } from '#common/deps';
import {
  countSession,
  powertoolsMiddlewares,
  tagInvocation,
  tenantData,
} from '#common/observability';
import {
  endedStatementOf,
  longPollSeconds,
  nextWaitSeconds,
  refuseFailedTransaction,
  TERMINAL_STATUSES,
} from '#common/polling';
import {
  leavesSessionState,
  parseStepInput,
  type QueryState,
  queryStateSchema,
  type SessionRef,
  sqlTextsOf,
} from '#common/schemas';

/**
 * Submits the tenant's SQL to the Data API: on the leased session when AcquireSession found one
 * (only `Sql` and `SessionId` are sent), otherwise on a new session that is recorded in the pool,
 * leased to this execution. Long-polls briefly so that a short query ends inside this step.
 *
 * `statements` go as one BatchExecuteStatement on the same session, in one transaction or
 * auto-commit. When the Data API is at its session limit (`ActiveSessionsExceededException`) the
 * query runs without a session instead of failing; so does SQL that leaves state in its session
 * when no pooled session was free (see {@link leavesSessionState}).
 *
 * @returns the state with `statement` (id, status, how long to wait) and the session used.
 * @throws {StaleSessionError} when the Data API refuses the reused session, or the reused
 * session answers that it is inside a failed transaction.
 * @throws {TransientServiceError} on throttling or server faults that outlasted the SDK's retries.
 */
export async function submitQuery(
  event: unknown,
  deps: StepDeps = defaultDeps,
  remainingMs?: number,
): Promise<QueryState> {
  const state = parseStepInput(queryStateSchema, event, 'SubmitQuery');
  const { query, session } = state;
  const { config, dataApi, telemetry } = deps;
  tagInvocation(telemetry, {
    tenantId: query.tenantId,
    executionArn: state.executionArn,
    sessionId: session.sessionId,
  });

  const connection: Connection = {
    target: config.target,
    database: config.database,
    dbUser: query.dbUser,
    secretArn: config.secretArn,
  };
  const waitSeconds = longPollSeconds(config.submitWaitSeconds, remainingMs);
  // One token for every call of this submission, whichever session mode it ends up using: if the
  // session-limit fallback ran the statement and the Lambda is then retried, the retry's first
  // call (opening a session again) gets the statement that already ran instead of a second one.
  const clientToken = clientTokenFor(state.executionArn, state.submitAttempt);
  const request = (mode: ExecuteRequest['session']): ExecuteRequest => ({
    sql: query.statements ?? (query.sql as string),
    executionMode: query.statements
      ? query.transaction === false
        ? 'AUTO_COMMIT'
        : 'TRANSACTION'
      : undefined,
    parameters: query.parameters,
    statementName: query.statementName,
    clientToken,
    waitSeconds,
    session: mode,
    connection,
  });

  const started = Date.now();
  let outcome: ExecuteOutcome;
  let nextSession: SessionRef;
  if (session.sessionId !== null) {
    outcome = await dataApi.execute(request({ reuse: session.sessionId }));
    nextSession = session;
  } else if (leavesSessionState(query)) {
    // Its session would be dropped as soon as the statement ends: opening one only adds a
    // session that counts against the Data API's limit until its keep-alive runs out.
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
  const elapsedMs = Date.now() - started;

  const status = outcome.status ?? 'SUBMITTED';
  telemetry.logger.info('Submitted statement', {
    statementId: outcome.statementId,
    sessionId: nextSession.sessionId,
    sessionReused: nextSession.reused,
    status,
    sqlBytes: sqlTextsOf(query).reduce((sum, text) => sum + Buffer.byteLength(text, 'utf8'), 0),
    statements: query.statements?.length ?? 1,
    parameterCount: query.parameters?.length ?? 0,
    ...tenantData(config, { sql: query.statements ?? query.sql, parameters: query.parameters }),
  });
  let failure: ReturnType<typeof endedStatementOf> | undefined;
  if (status === 'FAILED' || status === 'ABORTED') {
    // ExecuteStatement does not say why; DescribeStatement does.
    failure = endedStatementOf(await dataApi.describe(outcome.statementId, 0));
    refuseFailedTransaction(nextSession, status, failure.error);
  }
  return {
    ...state,
    session: nextSession,
    error: undefined,
    statement: {
      statementId: outcome.statementId,
      status,
      waitSeconds: TERMINAL_STATUSES.has(status) ? 0 : nextWaitSeconds(waitSeconds, elapsedMs, 0),
      polls: 0,
      hasResultSet: outcome.hasResultSet,
      ...failure,
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
  .use(powertoolsMiddlewares)
  .handler((event, context) =>
    submitQuery(event, defaultDeps, context.getRemainingTimeInMillis?.()),
  );
