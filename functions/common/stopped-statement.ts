import type { DescribeStatementResponse } from '@aws-sdk/client-redshift-data';
import type { StepDeps } from './deps.ts';
import { countSession, tenantData } from './observability.ts';
import { TERMINAL_STATUSES } from './polling.ts';
import type { GiveBackRequest, GivenBack } from './session-pool.ts';
import type { StatementState, StatementStatus } from './workflow-state.ts';

/**
 * Statements Spectra stops, and what their sessions come to. The one way to cancel a statement
 * and wait until it has settled ({@link settleStatement}), for the clean-up of stopped executions,
 * a SubmitQuery that finds its execution stopped, and a statement past its deadline or the
 * history's limit ({@link cancelPastLimit}); and the session of a stopped (or failed) execution,
 * back in the pool once the Data API says it runs nothing, dropped otherwise.
 */

/**
 * How long to wait, on the server, for a statement Spectra cancelled (or tried to: a statement
 * that commits cannot be cancelled) to end.
 */
export const CANCEL_WAIT_SECONDS = 5;
/**
 * How long to wait for the Data API to say that a session whose statement ended runs nothing any
 * more: a cancelled statement is ABORTED at once, but its session can stay busy while the engine
 * undoes it.
 */
export const SESSION_FREE_WAIT_MS = 5000;
const SESSION_FREE_POLL_MS = 200;

/**
 * `described`: the statement as DescribeStatement last reported it; undefined when the Data API
 * no longer knows it (it forgets statements after 24 hours).
 */
export type StatementOutcome =
  /** Ended (now or before): the statement holds no session. */
  | {
      kind: 'ended';
      cancelled: boolean;
      endedAt: string | undefined;
      sessionId?: string;
      described: DescribeStatementResponse | undefined;
    }
  /** Cancel did not take (yet), or it was not asked: the statement may still run on `sessionId`. */
  | { kind: 'may-still-run'; sessionId?: string; described: DescribeStatementResponse }
  | { kind: 'none' };

type Deps = Pick<StepDeps, 'dataApi' | 'telemetry' | 'config'>;

const hasEnded = (described: DescribeStatementResponse) =>
  TERMINAL_STATUSES.has(described.Status as StatementStatus);

const errorName = (error: unknown) => (error instanceof Error ? error.name : '');

async function describeOrGone(
  deps: Deps,
  statementId: string,
  waitSeconds: number,
): Promise<DescribeStatementResponse | undefined> {
  try {
    return await deps.dataApi.describe(statementId, waitSeconds);
  } catch (error) {
    // The Data API forgets statements after 24 hours; a forgotten statement runs no more.
    if (errorName(error) === 'ResourceNotFoundException') return undefined;
    throw error;
  }
}

/**
 * Cancels the statement unless it has ended (or `cancel` is false, and then waits a little for it
 * to end on its own); then reports whether it still runs. `running`: the statement as the caller
 * has just seen it, not ended, so that it is not described again before the cancel.
 */
export async function settleStatement(
  deps: Deps,
  statementId: string,
  cancel: boolean,
  running?: DescribeStatementResponse,
): Promise<StatementOutcome> {
  const { logger } = deps.telemetry;
  const before =
    running ?? (await describeOrGone(deps, statementId, cancel ? 0 : CANCEL_WAIT_SECONDS));
  const sessionId = before?.SessionId;
  if (before === undefined || hasEnded(before)) {
    logger.info('The statement had ended', { status: before?.Status });
    return {
      kind: 'ended',
      cancelled: false,
      endedAt: before?.UpdatedAt?.toISOString(),
      sessionId,
      described: before,
    };
  }
  if (!cancel) {
    logger.info('The statement still runs; it is left to finish for a redrive', {
      status: before.Status,
    });
    return { kind: 'may-still-run', sessionId, described: before };
  }

  let cancelled = false;
  try {
    cancelled = await deps.dataApi.cancel(statementId);
  } catch (error) {
    // Cancelling a statement that ended meanwhile is refused with a ValidationException; a
    // QueryTimeoutException (QueryTimeoutError) leaves its fate to DescribeStatement.
    if (
      errorName(error) !== 'ValidationException' &&
      errorName(error) !== 'ResourceNotFoundException' &&
      errorName(error) !== 'QueryTimeoutError'
    )
      throw error;
    logger.info('CancelStatement refused: the statement is not running', {
      error: errorName(error),
      ...tenantData(deps.config, { message: (error as Error).message }),
    });
  }

  // Cancelling is asynchronous: wait on the server for the statement to reach ABORTED. A refused
  // cancel is waited on as long: the statement ends on its own, FINISHED if it had committed.
  const after = await describeOrGone(deps, statementId, CANCEL_WAIT_SECONDS);
  if (after === undefined || hasEnded(after)) {
    // Committed before the cancel could take: its result stands, whatever the cancel answered.
    const committed = after?.Status === 'FINISHED';
    logger.info(
      committed
        ? 'The statement had committed; the cancel did not undo it'
        : cancelled
          ? 'Cancelled the statement'
          : 'The statement has ended',
      { status: after?.Status },
    );
    return {
      kind: 'ended',
      cancelled: cancelled && !committed,
      endedAt: after?.UpdatedAt?.toISOString(),
      sessionId,
      described: after,
    };
  }
  logger.warn('The statement is still running after CancelStatement', { status: after.Status });
  return { kind: 'may-still-run', sessionId, described: after };
}

/**
 * Cancels a statement that is still running (`running`, as DescribeStatement just reported it)
 * at the query's deadline (`timeout`), or when another poll could take the
 * execution's history too near its limit (`history`), and waits briefly for it to end
 * ({@link settleStatement}). A statement that finished just before the cancel keeps its
 * result; any other end (or one that has not come yet: the session is then dropped, not handed
 * on) is the limit's.
 */
export async function cancelPastLimit(
  deps: Deps,
  statementId: string,
  limit: NonNullable<StatementState['cancelledFor']>,
  running?: DescribeStatementResponse,
): Promise<{
  described: DescribeStatementResponse;
  cancelledFor: StatementState['cancelledFor'];
}> {
  const settled = await settleStatement(deps, statementId, true, running);
  // Forgotten by the Data API (it keeps statements 24 hours): it runs no more.
  const described = (settled.kind !== 'none' && settled.described) || {
    Id: statementId,
    Status: 'ABORTED',
  };
  const finished = described.Status === 'FINISHED';
  deps.telemetry.logger.warn(
    finished
      ? 'The statement finished as its limit came; its result stands'
      : limit === 'timeout'
        ? "Cancelled the statement: the query's timeout passed"
        : "Cancelled the statement: the execution's history neared its limit",
    { status: described.Status, limit },
  );
  return { described, cancelledFor: finished ? undefined : limit };
}

/**
 * Gives back what a stopped (or failed) execution holds in its tenant's pool (see
 * {@link SessionPool.giveBack}), given how its statement settled: a session goes back to the pool
 * when the statement does not run on it, its SQL left no state in it and the Data API says it is
 * available (waiting up to {@link SESSION_FREE_WAIT_MS} for that); it is dropped otherwise.
 */
export async function giveBackStopped(
  deps: Deps & Pick<StepDeps, 'store' | 'sleep'>,
  statement: StatementOutcome,
  leavesSessionState: boolean,
  holdings: Omit<GiveBackRequest, 'use'>,
): Promise<GivenBack> {
  const given = await deps.store.giveBack({
    ...holdings,
    use: {
      kind: 'settled',
      endedAt: statement.kind === 'ended' ? statement.endedAt : undefined,
      // A statement left running holds its own session only: one that runs without a session
      // (the `select 1` that took a submission's ClientToken) holds none. Whatever else may run
      // on the session, the Data API's own answer says.
      runningOn: statement.kind === 'may-still-run' ? statement.sessionId : undefined,
      leftState: leavesSessionState,
      runsNothing: (sessionId) => runsNothing(deps, sessionId),
    },
  });
  countSession(deps.telemetry, 'SessionInvalidated', given.dropped.length);
  return given;
}

/** Whether the Data API says the session runs nothing, once it is no longer BUSY. */
async function runsNothing(deps: Deps & Pick<StepDeps, 'sleep'>, sessionId: string) {
  let status = await deps.dataApi.sessionStatus(sessionId);
  for (let waited = 0; status === 'BUSY' && waited < SESSION_FREE_WAIT_MS; ) {
    await deps.sleep(SESSION_FREE_POLL_MS);
    waited += SESSION_FREE_POLL_MS;
    status = await deps.dataApi.sessionStatus(sessionId);
  }
  return status === 'AVAILABLE';
}
