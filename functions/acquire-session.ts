import middy from '@middy/core';
import { tenantDbUser } from '#common/config';
import { defaultDeps, type StepDeps } from '#common/deps';
import { countSession, powertoolsMiddlewares, tagInvocation } from '#common/observability';
import { leavesSessionState, parseExecutionInput, type QueryState } from '#common/schemas';

/** What the state machine passes: the execution input untouched, and the execution's ARN. */
export interface AcquireSessionEvent {
  request: unknown;
  executionArn: string;
}

/**
 * First step: validates the execution input (its SQL included: no transaction control, and
 * placeholders that match the parameters), then leases one of the tenant's idle sessions (waiting
 * briefly for a leased one to come back), or reports a miss so that SubmitQuery opens a new one.
 * SQL that leaves state in its session does not wait: its session is dropped afterwards, so the
 * wait would save no connection, and on a miss it runs without a session.
 *
 * @returns the workflow state every later step reads.
 * @throws {InvalidInputError} when the input breaks the contract (transaction control in the SQL,
 * placeholders without parameters or parameters without placeholders included), or the tenant's
 * database user would be a system or administrator user; nothing has been touched.
 * @throws {SessionPoolExhaustedError} when all of the tenant's sessions are leased and the pool is
 * at its cap (the state machine retries with backoff).
 * @throws {TransientServiceError} when DynamoDB keeps throttling.
 */
export async function acquireSession(
  event: AcquireSessionEvent,
  deps: StepDeps = defaultDeps,
): Promise<QueryState> {
  const input = parseExecutionInput(event.request);
  const { telemetry } = deps;
  // Before any call: a tenant id that would run as a system or administrator user touches nothing.
  const dbUser = tenantDbUser(input.tenantId, deps.config);
  tagInvocation(telemetry, { tenantId: input.tenantId, executionArn: event.executionArn });

  const dirties = leavesSessionState(input);
  const result = await deps.store.acquire(
    input.tenantId,
    dbUser,
    event.executionArn,
    dirties ? { waitMs: 0 } : {},
  );
  countSession(telemetry, 'SessionExpired', result.expiredRemoved);
  const base = {
    executionArn: event.executionArn,
    query: { ...input, dbUser },
    submitAttempt: 0,
    resubmits: 0,
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
    return {
      ...base,
      session: {
        sessionId: result.session.session_id,
        reused: true,
        createdAt: result.session.created_at,
      },
    };
  }
  if (result.ownerStopped) {
    telemetry.logger.warn('The execution was stopped while leasing; gave the session back');
  } else {
    countSession(telemetry, 'SessionMiss');
    telemetry.logger.info('No idle session in the pool; SubmitQuery opens a new one', {
      expiredRemoved: result.expiredRemoved,
      waitedMs: result.waitedMs,
    });
  }
  return { ...base, session: { sessionId: null, reused: false } };
}

export const handler = middy<AcquireSessionEvent, QueryState>()
  .use(powertoolsMiddlewares)
  .handler((event) => acquireSession(event));
