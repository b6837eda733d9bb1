import type { DescribeStatementResponse } from '@aws-sdk/client-redshift-data';
import type { SFNClient } from '@aws-sdk/client-sfn';
import middy from '@middy/core';
import { z } from 'zod';
import { sfnClient } from '#common/clients';
import { dbUserFor } from '#common/config';
import { defaultDeps, type StepDeps } from '#common/deps';
import { readHistory, tenantIdOf } from '#common/execution-history';
import { handlerMiddlewares } from '#common/middlewares';
import { countSession, tagInvocation, tenantData } from '#common/observability';
import { TERMINAL_STATUSES } from '#common/polling';
import type { StatementStatus } from '#common/schemas';

/**
 * An execution that is stopped (StopExecution, or its TimeoutSeconds ran out) runs no Catch and no
 * ReleaseSession: its statement may still run on Redshift and its session stays leased. One that
 * failed at a step (a transient error that outlasted its retries) runs no failure path either.
 * This function cleans up after both. An EventBridge rule calls it with the "Step Functions
 * Execution Status Change" event, on AWS and in the local stack alike.
 *
 * A failed execution's statement is left to finish: the execution can be redriven, and its redrive
 * reads that statement's result instead of running the SQL again.
 */

/** The EventBridge event for an execution that ended FAILED, ABORTED or TIMED_OUT. */
const statusChangeEventSchema = z.object({
  detail: z.object({
    executionArn: z.string().min(1),
    status: z.string().optional(),
    /** The execution input as a JSON string; null when it was too large to include. */
    input: z.string().nullable().optional(),
  }),
});

export type CancelStoppedExecutionEvent = z.input<typeof statusChangeEventSchema>;

export interface CancelStoppedExecutionOutcome {
  /** The statement this call cancelled; absent when it had already ended or none was found. */
  cancelledStatementId?: string;
  /** The execution's session went back to the tenant's pool. */
  sessionReleased: boolean;
  /** The session was dropped instead: its statement may still be running on it, or its SQL left state in it. */
  sessionInvalidated: boolean;
}

export interface CancelStoppedExecutionDeps extends StepDeps {
  sfn: SFNClient;
}

/** How long to wait, on the server, for a cancelled statement to reach ABORTED. */
export const CANCEL_WAIT_SECONDS = 5;

interface StoppedExecution {
  executionArn: string;
  status: string | undefined;
  /** The execution input, if the event carried it. */
  input: unknown;
}

function parseEvent(event: unknown): StoppedExecution {
  const parsed = statusChangeEventSchema.safeParse(event);
  if (!parsed.success) {
    throw new Error(
      'CancelStoppedExecution expects an EventBridge "Step Functions Execution Status Change" event, with detail.executionArn',
    );
  }
  const { detail } = parsed.data;
  return { executionArn: detail.executionArn, status: detail.status, input: detail.input };
}

type StatementOutcome =
  /** Ended (now or before): the session is free. */
  | { kind: 'ended'; cancelled: boolean; endedAt: string | undefined }
  /** Cancel did not take (yet): the statement may still be running on the session. */
  | { kind: 'may-still-run' }
  | { kind: 'none' };

const isTerminal = (described: DescribeStatementResponse | undefined) =>
  described === undefined || TERMINAL_STATUSES.has(described.Status as StatementStatus);

const errorName = (error: unknown) => (error instanceof Error ? error.name : '');

async function describeOrGone(
  deps: CancelStoppedExecutionDeps,
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
 * Cancels the statement unless it has ended (or `cancel` is false); then reports whether it still
 * holds the session.
 */
async function settleStatement(
  deps: CancelStoppedExecutionDeps,
  statementId: string,
  cancel: boolean,
): Promise<StatementOutcome> {
  const { logger } = deps.telemetry;
  const before = await describeOrGone(deps, statementId, 0);
  if (isTerminal(before)) {
    logger.info('The statement had already ended', { status: before?.Status });
    return { kind: 'ended', cancelled: false, endedAt: before?.UpdatedAt?.toISOString() };
  }
  if (!cancel) {
    logger.info('The statement still runs; it is left to finish for a redrive', {
      status: before?.Status,
    });
    return { kind: 'may-still-run' };
  }

  let cancelled = false;
  try {
    cancelled = await deps.dataApi.cancel(statementId);
  } catch (error) {
    // Cancelling a statement that ended meanwhile is refused with a ValidationException.
    if (
      errorName(error) !== 'ValidationException' &&
      errorName(error) !== 'ResourceNotFoundException'
    )
      throw error;
    logger.info('CancelStatement refused: the statement is not running', {
      error: errorName(error),
      ...tenantData(deps.config, { message: (error as Error).message }),
    });
  }

  // Cancelling is asynchronous: wait on the server for the statement to reach ABORTED.
  const after = await describeOrGone(deps, statementId, cancelled ? CANCEL_WAIT_SECONDS : 0);
  if (isTerminal(after)) {
    logger.info(cancelled ? 'Cancelled the statement' : 'The statement has ended', {
      status: after?.Status,
    });
    return { kind: 'ended', cancelled, endedAt: after?.UpdatedAt?.toISOString() };
  }
  logger.warn('The statement is still running after CancelStatement', { status: after?.Status });
  return { kind: 'may-still-run' };
}

/**
 * Cleans up after a stopped or failed execution:
 * (0) marks a stopped one stopped, so that a step of it still running gives back any lease it
 * takes later (no step of a failed execution runs on: its last step is what failed);
 * (a) finds the statement it submitted in its history and, for a stopped one, cancels it if it is
 * still running;
 * (b) finds the session leased to it in the tenant's pool (the record whose `lease_owner` is the
 * execution) and releases it, or drops it when a statement may still be running on it (a busy
 * session must not be handed to another execution) or when its SQL left state in it.
 *
 * Safe to run twice: an ended statement is not cancelled again, and release and invalidate are
 * conditional on the lease still being the execution's.
 *
 * @throws {TransientServiceError} when a service keeps throttling or failing; the event is retried.
 */
export async function cancelStoppedExecution(
  event: unknown,
  deps: CancelStoppedExecutionDeps = { ...defaultDeps, sfn: sfnClient },
): Promise<CancelStoppedExecutionOutcome> {
  const stopped = parseEvent(event);
  const { logger } = deps.telemetry;
  logger.appendKeys({ executionArn: stopped.executionArn });
  const failed = stopped.status === 'FAILED';
  // First, before the pool is read: a step of this execution may still be running and about to
  // lease a session; the mark makes it give the lease back (see SessionStore.markStopped).
  if (!failed) await deps.store.markStopped(stopped.executionArn);

  const history = await readHistory(deps.sfn, stopped.executionArn, tenantIdOf(stopped.input));
  const { statementId, tenantId } = history;
  if (tenantId !== undefined) {
    tagInvocation(deps.telemetry, { tenantId, executionArn: stopped.executionArn, statementId });
  }
  if (failed && history.endedInFailState) {
    logger.info('The execution failed through its failure path, which gave its session back');
    return { sessionReleased: false, sessionInvalidated: false };
  }
  logger.info('Cleaning up after a stopped or failed execution', {
    status: stopped.status,
    statementId,
    taskInFlight: history.taskInFlight,
  });

  let statement: StatementOutcome = { kind: 'none' };
  if (statementId !== undefined) statement = await settleStatement(deps, statementId, !failed);
  // Stopped in the middle of a step with no statement known: SubmitQuery may have started one
  // that the history never recorded, so the session is treated as busy.
  const sessionMayBeBusy =
    statement.kind === 'may-still-run' || (statement.kind === 'none' && history.taskInFlight);
  // A session whose SQL left state in it is dropped, as ReleaseSession would have dropped it.
  const dropSession = sessionMayBeBusy || history.leavesSessionState === true;

  const outcome: CancelStoppedExecutionOutcome = {
    cancelledStatementId:
      statement.kind === 'ended' && statement.cancelled ? statementId : undefined,
    sessionReleased: false,
    sessionInvalidated: false,
  };
  if (tenantId === undefined) {
    logger.warn('The execution input names no tenant; no session to release');
    return outcome;
  }

  const dbUser = dbUserFor(tenantId, deps.config.dbUserTemplate);
  const pool = await deps.store.listPool(tenantId, dbUser);
  const leased = pool.filter(
    (record) => record.state === 'LEASED' && record.lease_owner === stopped.executionArn,
  );
  for (const record of leased) {
    if (dropSession) {
      const dropped = await deps.store.invalidate(
        tenantId,
        dbUser,
        record.session_id,
        stopped.executionArn,
      );
      if (dropped) countSession(deps.telemetry, 'SessionInvalidated');
      outcome.sessionInvalidated ||= dropped;
    } else {
      const released = await deps.store.release(
        { tenantId, dbUser, sessionId: record.session_id, createdAt: record.created_at },
        stopped.executionArn,
        statement.kind === 'ended' ? statement.endedAt : undefined,
      );
      outcome.sessionReleased ||= released;
    }
  }
  // Stopped between claiming the opening of the pool's first session and recording it: the claim
  // would make the tenant's next queries wait for a session that may never come.
  await deps.store.dropOpeningClaim(tenantId, dbUser, stopped.executionArn);
  logger.info('Cleaned up after the stopped execution', {
    sessionId: leased[0]?.session_id,
    ...outcome,
  });
  return outcome;
}

export const handler = middy<unknown, CancelStoppedExecutionOutcome>()
  .use(handlerMiddlewares)
  .handler((event) => cancelStoppedExecution(event));
