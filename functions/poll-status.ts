import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { defaultDeps, type StepDeps } from '#common/deps';
import { powertoolsMiddlewares, tagInvocation, tenantData } from '#common/observability';
import {
  endedStatementOf,
  longPollSeconds,
  nextWaitSeconds,
  refuseFailedTransaction,
  TERMINAL_STATUSES,
} from '#common/polling';
import {
  parseStepInput,
  type QueryState,
  queryStateSchema,
  type StatementStatus,
} from '#common/schemas';

/**
 * Asks the Data API how the statement is doing, holding the request on the server until it ends
 * or ~20 seconds pass, and renews this execution's lease on the session (a lease that is not
 * renewed runs out, which is how a vanished execution's session returns to the pool).
 *
 * Returns the status; it never throws because the statement is still running or failed: the
 * state machine's Choice routes on the status.
 *
 * @throws {StaleSessionError} when the reused session answered that it is inside a failed
 * transaction: the statement did not run, and the state machine resubmits it on a new session.
 * @throws {TransientServiceError} on throttling or server faults that outlasted the SDK's retries.
 */
export async function pollStatus(
  event: unknown,
  deps: StepDeps = defaultDeps,
  remainingMs?: number,
): Promise<QueryState> {
  const state = parseStepInput(queryStateSchema, event, 'PollStatus');
  const { statement, query, session } = state;
  if (statement === undefined) throw new Error('PollStatus needs $.statement, set by SubmitQuery');
  tagInvocation(deps.telemetry, {
    tenantId: query.tenantId,
    executionArn: state.executionArn,
    statementId: statement.statementId,
    sessionId: session.sessionId,
  });

  const waitSeconds = longPollSeconds(deps.config.pollWaitSeconds, remainingMs);
  const started = Date.now();
  const described = await deps.dataApi.describe(statement.statementId, waitSeconds);
  const elapsedMs = Date.now() - started;
  const status = (described.Status ?? statement.status) as StatementStatus;
  const polls = statement.polls + 1;

  if (session.sessionId !== null) {
    const renewed = await deps.store.renewLease(
      query.tenantId,
      query.dbUser,
      session.sessionId,
      state.executionArn,
    );
    if (!renewed)
      deps.telemetry.logger.warn('The lease on the session was no longer held; it is not renewed');
  }

  const ended = TERMINAL_STATUSES.has(status);
  deps.telemetry.logger.info('Polled statement', {
    status,
    polls,
    durationNs: described.Duration,
    ...tenantData(deps.config, { redshiftError: described.Error }),
  });
  const endedFields = ended ? endedStatementOf(described) : undefined;
  refuseFailedTransaction(session, status, endedFields?.error);
  return {
    ...state,
    statement: {
      ...statement,
      status,
      polls,
      waitSeconds: ended ? 0 : nextWaitSeconds(waitSeconds, elapsedMs, polls),
      hasResultSet: described.HasResultSet ?? statement.hasResultSet,
      resultRows:
        described.ResultRows !== undefined && described.ResultRows >= 0
          ? described.ResultRows
          : undefined,
      finishedAt: endedFields?.finishedAt,
      error: described.Error || undefined,
      failedIndex: endedFields?.failedIndex,
      subStatuses: endedFields?.subStatuses,
    },
  };
}

export const handler = middy<unknown, QueryState, Error, Context>()
  .use(powertoolsMiddlewares)
  .handler((event, context) =>
    pollStatus(event, defaultDeps, context.getRemainingTimeInMillis?.()),
  );
