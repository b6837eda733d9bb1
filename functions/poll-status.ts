import type { DescribeStatementResponse } from '@aws-sdk/client-redshift-data';
import { defaultDeps, type StepDeps } from '#common/deps';
import { type Invocation, stepHandler, workflowTags } from '#common/handler';
import { tenantData } from '#common/observability';
import {
  endedStatementOf,
  HISTORY_EVENTS_PER_POLL,
  leaseSecondsAfter,
  limitReached,
  longPollSeconds,
  refuseFailedTransaction,
  TERMINAL_STATUSES,
  waitAfter,
} from '#common/polling';
import { LEASE_SECONDS } from '#common/session-record';
import { cancelPastLimit } from '#common/stopped-statement';
import {
  type QueryState,
  type StatementState,
  type StatementStatus,
  type SubmittedState,
  submittedStateSchema,
} from '#common/workflow-state';

/**
 * Asks the Data API how the statement is doing, holding the request on the server until it ends
 * or ~20 seconds pass (never past the query's deadline), says how long to wait before the next
 * poll (see functions/common/polling.ts), and renews this execution's lease on the session past
 * that wait (a lease that is not renewed runs out, which is how a vanished execution's session
 * returns to the pool).
 *
 * When the statement is still running at the query's deadline, or another poll could take the
 * execution's history too near its 25,000-event limit, it cancels the statement: the state then
 * says why (`cancelledFor`), and the state machine ends the execution with QueryTimeoutError.
 *
 * Returns the status; it never throws because the statement is still running or failed: the
 * state machine's Choice routes on the status.
 *
 * @throws {StaleSessionError} when the reused session answered that it is inside a failed
 * transaction: the statement did not run, and the state machine resubmits it on a new session.
 * @throws {TransientServiceError} on throttling or server faults that outlasted the SDK's retries.
 */
export async function pollStatus(
  state: SubmittedState,
  deps: StepDeps,
  { remainingMs }: Invocation = {},
): Promise<QueryState> {
  const { statement, query, session } = state;
  const started = deps.clock();
  const waitSeconds = longPollSeconds(deps.config.pollWaitSeconds, remainingMs, {
    deadline: query.deadline,
    now: started,
  });
  let described: DescribeStatementResponse = await deps.dataApi.describe(
    statement.statementId,
    waitSeconds,
  );
  const now = deps.clock();
  const polls = statement.polls + 1;
  const historyEventsBound = state.historyEventsBound + HISTORY_EVENTS_PER_POLL;
  let status = (described.Status ?? statement.status) as StatementStatus;
  let cancelledFor: StatementState['cancelledFor'];
  if (!TERMINAL_STATUSES.has(status)) {
    const limit = limitReached({ deadline: query.deadline, historyEventsBound }, now);
    if (limit !== undefined) {
      ({ described, cancelledFor } = await cancelPastLimit(
        deps,
        statement.statementId,
        limit,
        described,
      ));
      status = (described.Status ?? status) as StatementStatus;
    }
  }

  const ended = TERMINAL_STATUSES.has(status);
  const nextWait = waitAfter({
    status,
    cancelledFor,
    requestedWaitSeconds: waitSeconds,
    pollStarted: started,
    now,
    polls,
    submittedAt: statement.submittedAt,
    deadline: query.deadline,
  });

  if (session.sessionId !== null) {
    const renewed = await deps.store.renewLease(
      query.tenantId,
      query.dbUser,
      session.sessionId,
      state.executionArn,
      leaseSecondsAfter(nextWait, deps.config.pollWaitSeconds, LEASE_SECONDS),
    );
    if (!renewed)
      deps.telemetry.logger.warn('The lease on the session was no longer held; it is not renewed');
  }

  deps.telemetry.logger.info('Polled statement', {
    status,
    polls,
    nextWaitSeconds: nextWait,
    cancelledFor,
    durationNs: described.Duration,
    ...tenantData(deps.config, { redshiftError: described.Error }),
  });
  const endedFields = ended ? endedStatementOf(described) : undefined;
  refuseFailedTransaction(session, status, endedFields?.error);
  return {
    ...state,
    historyEventsBound,
    statement: {
      ...statement,
      status,
      polls,
      waitSeconds: nextWait,
      hasResultSet: described.HasResultSet ?? statement.hasResultSet,
      resultRows:
        described.ResultRows !== undefined && described.ResultRows >= 0
          ? described.ResultRows
          : undefined,
      finishedAt: endedFields?.finishedAt,
      error: described.Error || undefined,
      failedIndex: endedFields?.failedIndex,
      subStatuses: endedFields?.subStatuses,
      cancelledFor,
    },
  };
}

export const handler = stepHandler(pollStatus, {
  step: 'PollStatus',
  state: submittedStateSchema,
  deps: defaultDeps,
  tags: workflowTags,
});
