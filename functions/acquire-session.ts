import * as z from 'zod';
import { tenantDbUser } from '#common/config';
import { defaultDeps, type StepDeps } from '#common/deps';
import { QueryTimeoutError } from '#common/errors';
import { leavesSessionState, parseExecutionInput, tenantIdOf } from '#common/execution-input';
import { stepHandler } from '#common/handler';
import { countSession } from '#common/observability';
import { HISTORY_EVENTS_AT_MOST, secondsUntil } from '#common/polling';
import type { QueryState } from '#common/workflow-state';

/**
 * What the state machine passes: the execution input untouched (validated here, as the caller's
 * input), the execution's ARN, its start and its redrive count (the run; absent for a caller that
 * does not redrive).
 */
const acquireEventSchema = z.object({
  request: z.unknown(),
  executionArn: z.string(),
  /** `$$.Execution.StartTime`: the query's timeout counts from it (default: now). */
  startTime: z.string().optional(),
  redriveCount: z.number().int().min(0).optional(),
});
export type AcquireSessionEvent = z.infer<typeof acquireEventSchema>;

/**
 * First step: validates the execution input (its SQL included: no transaction control, and
 * placeholders that match the parameters), then leases one of the tenant's idle sessions, or
 * reserves the slots of a new one that SubmitQuery opens (see SessionStore.acquire): at the
 * tenant's cap it waits for a leased session to come back; at the cluster's cap the query runs
 * without a session. SQL that leaves state in its session reserves nothing and does not wait: its
 * session is dropped afterwards, so on a miss it runs without a session.
 *
 * The query's deadline is fixed here: the execution's start plus its `timeoutSeconds` (default
 * `SPECTRA_QUERY_TIMEOUT_SECONDS`). The state keeps the query's settings, not its SQL, which
 * Submit Query reads from the execution input.
 *
 * @returns the workflow state every later step reads.
 * @throws {InvalidInputError} when the input breaks the contract (transaction control in the SQL,
 * placeholders without parameters or parameters without placeholders included), or the tenant's
 * database user would be a system or administrator user; nothing has been touched.
 * @throws {QueryTimeoutError} when the deadline has passed (the pool stayed full through the
 * retries for longer than the timeout); nothing is leased.
 * @throws {SessionPoolExhaustedError} when all of the tenant's sessions are leased and the pool is
 * at its cap (the state machine retries with backoff).
 * @throws {TransientServiceError} when DynamoDB keeps throttling.
 */
export async function acquireSession(
  event: AcquireSessionEvent,
  deps: StepDeps,
): Promise<QueryState> {
  const input = parseExecutionInput(event.request);
  const { telemetry } = deps;
  // Before any call: a tenant id that would run as a system or administrator user touches nothing.
  const dbUser = tenantDbUser(input.tenantId, deps.config);
  const timeoutSeconds = input.timeoutSeconds ?? deps.config.queryTimeoutSeconds;
  const startedAt = event.startTime === undefined ? deps.clock() : new Date(event.startTime);
  const deadline = new Date(startedAt.getTime() + timeoutSeconds * 1000).toISOString();
  if (secondsUntil(deadline, deps.clock()) <= 0) {
    throw new QueryTimeoutError(
      `The query's timeout (timeoutSeconds ${timeoutSeconds}) passed before a session of tenant ${input.tenantId} was free; nothing ran`,
    );
  }

  const dirties = leavesSessionState(input);
  const run = event.redriveCount ?? 0;
  // A session the Data API closes before the deadline would end the statement with it.
  const lifeNeededSeconds = Math.ceil(secondsUntil(deadline, deps.clock()));
  const result = await deps.store.acquire(input.tenantId, dbUser, event.executionArn, {
    run,
    lifeNeededSeconds,
    ...(dirties ? { waitMs: 0, mayOpen: false } : {}),
  });
  countSession(telemetry, 'SessionExpired', result.expiredRemoved);
  const base = {
    executionArn: event.executionArn,
    ...(run > 0 ? { run } : {}),
    query: {
      tenantId: input.tenantId,
      dbUser,
      batchSize: input.statements?.length,
      leavesSessionState: dirties,
      rowLimit: input.rowLimit,
      byteLimit: input.byteLimit,
      timeoutSeconds,
      deadline,
    },
    submitAttempt: 0,
    resubmits: 0,
    historyEventsBound: HISTORY_EVENTS_AT_MOST.executionStarted + HISTORY_EVENTS_AT_MOST.acquire,
  };
  if (result.kind === 'hit') {
    countSession(telemetry, 'SessionHit');
    telemetry.logger.info('Leased a pooled session', {
      sessionId: result.session.session_id,
      lastUsedAt: result.session.last_used_at,
      expiresAt: result.session.expires_at,
      waitedMs: result.waitedMs,
      leavesSessionState: dirties,
    });
    const warmup = result.session.warmup_statement_id;
    return {
      ...base,
      session: {
        sessionId: result.session.session_id,
        reused: true,
        createdAt: result.session.created_at,
        ...(warmup === undefined ? {} : { warmupStatementId: warmup }),
        ...(result.spareWanted ? { spare: result.spareWanted } : {}),
      },
    };
  }
  if (result.ownerStopped) {
    telemetry.logger.warn('The execution was stopped while leasing; gave back what it took');
  } else if (result.sessionless) {
    countSession(telemetry, 'SessionMiss');
    telemetry.logger.info(
      "The pool is full of sessions the Data API closes before this query's deadline; it runs without a session",
      { lifeNeededSeconds, waitedMs: result.waitedMs },
    );
    return { ...base, session: { sessionId: null, reused: false, sessionless: true } };
  } else if (result.sessionsLeased) {
    // Whether this is a hit is up to SubmitQuery: a session given back may still beat the new one.
    telemetry.logger.info('Every session of the pool is leased; SubmitQuery opens one meanwhile', {
      slot: result.reservation?.slot,
    });
  } else {
    countSession(telemetry, 'SessionMiss');
    if (result.atTotalCap) countSession(telemetry, 'SessionTotalCapReached');
    telemetry.logger.info(
      result.atTotalCap
        ? 'Every slot of the cluster is held (SPECTRA_MAX_SESSIONS_TOTAL); the query runs without a session'
        : result.reservation
          ? 'No idle session in the pool; SubmitQuery opens a new one'
          : 'No idle session in the pool; the query runs without a session',
      { expiredRemoved: result.expiredRemoved, slot: result.reservation?.slot },
    );
  }
  return {
    ...base,
    session: {
      sessionId: null,
      reused: false,
      ...(result.reservation ? { reservation: result.reservation } : {}),
      ...(result.sessionsLeased ? { sessionsLeased: true } : {}),
    },
  };
}

export const handler = stepHandler(acquireSession, {
  step: 'AcquireSession',
  state: acquireEventSchema,
  deps: defaultDeps,
  tags: (event) => {
    const tenantId = tenantIdOf(event.request);
    return tenantId === undefined ? undefined : { tenantId, executionArn: event.executionArn };
  },
});
