import type { SFNClient } from '@aws-sdk/client-sfn';
import * as z from 'zod';
import { sfnClient } from '#common/clients';
import { dbUserFor } from '#common/config';
import { clientTokenFor } from '#common/data-api';
import { defaultDeps, type StepDeps } from '#common/deps';
import { readHistory } from '#common/execution-history';
import { tenantIdOf } from '#common/execution-input';
import { type ExecutionRecord, submissionOf, unusedReservationOf } from '#common/execution-record';
import { stepHandler } from '#common/handler';
import { tagInvocation } from '#common/observability';
import { OPENING_SQL } from '#common/session-race';
import type { SessionRecord } from '#common/session-record';
import {
  CANCEL_WAIT_SECONDS,
  giveBackStopped,
  type StatementOutcome,
  settleStatement,
} from '#common/stopped-statement';

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
    /** How many times the execution had been redriven: the run that ended. */
    redriveCount: z.number().int().min(0).optional(),
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

export { CANCEL_WAIT_SECONDS };

/** The run a stop event names none for: every run so far. */
const EVERY_RUN = Number.MAX_SAFE_INTEGER;

export interface StoppedExecution {
  executionArn: string;
  status: string | undefined;
  /** The execution input, if the event carried it. */
  input: unknown;
  run: number;
}

/**
 * Reads the EventBridge event. One of another shape is refused in this function's own words (a
 * caller wiring the rule by hand meets it), not as a workflow state it cannot read.
 */
export function parseStoppedExecution(event: unknown): StoppedExecution {
  const parsed = statusChangeEventSchema.safeParse(event);
  if (!parsed.success) {
    throw new Error(
      'CancelStoppedExecution expects an EventBridge "Step Functions Execution Status Change" event, with detail.executionArn',
    );
  }
  const { detail } = parsed.data;
  return {
    executionArn: detail.executionArn,
    status: detail.status,
    input: detail.input,
    run: detail.redriveCount ?? EVERY_RUN,
  };
}

/**
 * The statement of the submission the record names, when ExecuteStatement may have run without
 * its answer reaching the record (the step died, or the stop came first): asked of the Data API by
 * the submission's ClientToken, with a statement that does nothing. If the submission's statement
 * exists, the token returns it; if it does not (yet), the `select 1` takes the token, so that the
 * submission, should it still arrive, gets that instead and its SQL never runs.
 */
async function statementOfToken(
  deps: CancelStoppedExecutionDeps,
  tenantId: string,
  submission: { executionArn: string; run: number; attempt: number },
): Promise<string> {
  const { config } = deps;
  const { executionArn, attempt, run } = submission;
  const outcome = await deps.dataApi.execute({
    sql: OPENING_SQL,
    clientToken: clientTokenFor(executionArn, attempt, { run }),
    waitSeconds: 0,
    session: 'none',
    connection: {
      target: config.target,
      database: config.database,
      dbUser: dbUserFor(tenantId, config.dbUserTemplate),
      secretArn: config.secretArn,
    },
  });
  return outcome.statementId;
}

/**
 * Cleans up after a stopped or failed execution:
 * (0) marks a stopped one's run stopped in the execution's record, which returns what its steps
 * wrote there (no step of a failed execution runs on: its last step is what failed);
 * (a) finds the statement it submitted (the record, or by the submission's ClientToken, or the
 * history) and, for a stopped one, cancels it if it is still running;
 * (b) finds the sessions leased to it in the tenant's pool (the records whose `lease_owner` is the
 * execution) and releases each once the Data API says it is available, or drops it when a
 * statement may still be running on it (a busy session must not be handed to another execution)
 * or when its SQL left state in it;
 * (c) gives back slots reserved for a session that was never opened.
 *
 * Safe to run twice: an ended statement is not cancelled again, and release and invalidate are
 * conditional on the lease still being the execution's.
 *
 * @throws {TransientServiceError} when a service keeps throttling or failing; the event is retried.
 */
export async function cancelStoppedExecution(
  stopped: StoppedExecution,
  deps: CancelStoppedExecutionDeps,
): Promise<CancelStoppedExecutionOutcome> {
  const { logger } = deps.telemetry;
  const { executions } = deps.store;
  logger.appendKeys({ executionArn: stopped.executionArn });
  const failed = stopped.status === 'FAILED';
  // First, before anything is read: a step of this execution may still be running and about to
  // take something; the mark makes it give that back (see ExecutionRecords).
  const marked = failed
    ? undefined
    : await executions.markStopped(stopped.executionArn, stopped.run);

  const history = await readHistory(deps.sfn, stopped.executionArn, tenantIdOf(stopped.input));
  if (failed && history.endedInFailState) {
    logger.info('The execution failed through its failure path, which gave its session back');
    return { sessionReleased: false, sessionInvalidated: false };
  }
  const record: ExecutionRecord | undefined =
    marked ?? (await executions.read(stopped.executionArn));
  const tenantId = history.tenantId ?? record?.tenant_id;
  if (tenantId !== undefined) {
    tagInvocation(deps.telemetry, {
      tenantId,
      executionArn: stopped.executionArn,
      statementId: history.statementId,
    });
  }

  // The statement: the last submission's, which the record names even while SubmitQuery waits for
  // it (the history only once SubmitQuery returned).
  // Submit Query records no submission on a session Acquire leased: then, while no task has
  // returned a statement, the input of the task in flight names the submission.
  const recorded = submissionOf(record);
  const inFlight = history.inFlight;
  const submitting =
    history.statementId === undefined && inFlight?.submitAttempt !== undefined
      ? { run: inFlight.run ?? 0, attempt: inFlight.submitAttempt }
      : undefined;
  const submission =
    recorded && recorded.run <= stopped.run
      ? recorded
      : submitting && submitting.run <= stopped.run
        ? { ...submitting, statementId: undefined }
        : undefined;
  let statementId = submission ? submission.statementId : history.statementId;
  if (statementId === undefined && submission && !failed && tenantId !== undefined)
    statementId = await statementOfToken(deps, tenantId, {
      ...submission,
      executionArn: stopped.executionArn,
    });
  logger.info('Cleaning up after a stopped or failed execution', {
    status: stopped.status,
    statementId,
    taskInFlight: history.taskInFlight,
  });
  let statement: StatementOutcome = { kind: 'none' };
  if (statementId !== undefined) statement = await settleStatement(deps, statementId, !failed);

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
  const adopted = failed
    ? await adoptOpenedSession(deps, record, statement, pool, {
        tenantId,
        dbUser,
        owner: stopped.executionArn,
      })
    : undefined;
  // Its leases, and slots reserved for a session that was never opened. A step of a stopped run
  // that said it opens one on them may still be running: it gives them back itself, with the
  // session or alone. A failed execution runs no step any more, so a session it opened would be
  // in the pool by now.
  const given = await giveBackStopped(deps, statement, history.leavesSessionState === true, {
    tenantId,
    dbUser,
    owner: stopped.executionArn,
    pool,
    alsoHeld: adopted ? [adopted] : [],
    reservations: [failed ? record?.reservation : unusedReservationOf(record, stopped.run)],
  });
  outcome.sessionReleased = given.released.length > 0;
  outcome.sessionInvalidated = given.dropped.length > 0;
  logger.info('Cleaned up after the stopped execution', {
    sessionId: given.released[0] ?? given.dropped[0],
    ...outcome,
  });
  return outcome;
}

/**
 * The session a failed execution's submission opened, when no record of the pool holds it: the
 * step that opened it failed after ExecuteStatement answered, before its record was written. It
 * is written to the pool on the slots the step opened it on, leased to the execution, so that it
 * is given back like any other lease instead of staying open outside the pool; not when those
 * slots are no longer held (then the cap has no room for it).
 *
 * Never for a stopped execution: its step may still be running, and it writes the record itself
 * and then finds the stop (see SubmitQuery). Were the clean-up to write it too, it could drop the
 * session (a statement that may still run on it) and give its slots back before the step's own
 * write lands, which would put the session back in the pool on slots another session holds.
 */
async function adoptOpenedSession(
  deps: CancelStoppedExecutionDeps,
  record: ExecutionRecord | undefined,
  statement: StatementOutcome,
  pool: readonly SessionRecord[],
  owner: { tenantId: string; dbUser: string; owner: string },
): Promise<SessionRecord | undefined> {
  const sessionId = statement.kind === 'none' ? undefined : statement.sessionId;
  const reservation = record?.reservation;
  if (sessionId === undefined || reservation === undefined) return undefined;
  if (record?.opening_claim !== reservation.claim) return undefined;
  if (pool.some((held) => held.session_id === sessionId)) return undefined;
  if (pool.some((held) => held.slot_claim === reservation.claim)) return undefined;
  const renewed = await deps.store.slots.renew(owner.tenantId, owner.dbUser, reservation);
  if (renewed === undefined) return undefined;
  deps.telemetry.logger.warn('Adopted the session the failed submission opened into the pool', {
    sessionId,
  });
  return deps.store.recordNewSession({ ...owner, sessionId, reservation: renewed });
}

// The tenant is known only once the history or the record is read: the core tags the invocation.
export const handler = stepHandler(cancelStoppedExecution, {
  step: 'CancelStoppedExecution',
  state: parseStoppedExecution,
  deps: { ...defaultDeps, sfn: sfnClient },
});
