import * as z from 'zod';
import { dbUserFor, reservedDbUserReason } from '#common/config';
import { defaultDeps, type StepDeps } from '#common/deps';
import { executionInputSchema } from '#common/execution-input';
import { describeFailure, type Failure } from '#common/execution-output';
import { stepHandler } from '#common/handler';
import { countSession, tenantData } from '#common/observability';
import { TERMINAL_STATUSES } from '#common/polling';
import {
  caughtErrorSchema,
  type Query,
  querySchema,
  type SessionRef,
  sessionRefSchema,
  statementSchema,
} from '#common/workflow-state';

/**
 * What the state machine passes. On a failure path the state may be partial: a failure in
 * AcquireSession leaves only the caught `{Error, Cause}`.
 */
const releaseEventSchema = z.object({
  outcome: z.enum(['SUCCEEDED', 'FAILED']),
  executionArn: z.string(),
  /** The execution input (failure path): names the tenant when the state does not. */
  input: z.unknown().optional(),
  state: z.object({
    query: querySchema.optional(),
    session: sessionRefSchema.optional(),
    statement: statementSchema.optional(),
    error: caughtErrorSchema.optional(),
    Error: z.string().optional(),
    Cause: z.string().optional(),
  }),
});
export type ReleaseSessionEvent = z.infer<typeof releaseEventSchema>;

export interface ReleaseOutcome {
  released: boolean;
  /** The session was dropped from the pool instead: the SQL left state in it. */
  dropped?: boolean;
  /** Leases of this execution the state did not name, given back (failure path only). */
  strayLeases?: number;
  failure?: Failure;
}

/**
 * Returns the execution's session to the pool: on success, after a SQL failure or abort, and
 * after any other failure. The keep-alive restarts at the statement's end. Releasing a session
 * that is no longer leased to this execution does nothing, so a retry is harmless.
 *
 * A session whose SQL left state in it (a setting, a temporary table, another identity, ...; see
 * {@link leavesSessionState}) is dropped from the pool instead, whatever the outcome: no reset
 * restores every kind of state on Redshift (no DISCARD ALL; temporary tables and prepared
 * statements have no blanket reset), so it is "unknown dirt, discard", as PgBouncer closes a
 * server connection it cannot reset. It is left to its keep-alive: the Data API has no call that
 * closes a session, and whether `SessionKeepAliveSeconds` sent with a `SessionId` shortens it is
 * not documented. Until then it counts against the Data API's 500 sessions; SQL of this kind that
 * finds no idle session runs without one (see submitQuery), so only pooled hits leave one behind.
 *
 * On a failure path it also writes the failure down for the Fail state: the error name, and a
 * Cause holding the message, the statement id and Redshift's own error text.
 */
export async function releaseSession(
  event: ReleaseSessionEvent,
  deps: StepDeps,
): Promise<ReleaseOutcome> {
  const { outcome, executionArn, input, state } = event;
  const { query, session, statement } = state;

  let released = false;
  let dropped: boolean | undefined;
  // A statement Spectra cancelled that has not ended yet may still hold the session.
  const mayStillRun =
    statement?.cancelledFor !== undefined && !TERMINAL_STATUSES.has(statement.status);
  if (query && session?.sessionId && (query.leavesSessionState || mayStillRun)) {
    dropped = await deps.store.invalidate(
      query.tenantId,
      query.dbUser,
      session.sessionId,
      executionArn,
    );
    if (dropped)
      countSession(deps.telemetry, mayStillRun ? 'SessionInvalidated' : 'SessionDiscarded');
    deps.telemetry.logger.info(
      !dropped
        ? 'The session was not leased to this execution'
        : mayStillRun
          ? 'Dropped the session from the pool: its cancelled statement may still run on it'
          : 'Dropped the session from the pool: the SQL left state in it',
      { outcome },
    );
  } else if (query && session?.sessionId) {
    released = await deps.store.release(
      {
        tenantId: query.tenantId,
        dbUser: query.dbUser,
        sessionId: session.sessionId,
        createdAt: session.createdAt ?? deps.clock().toISOString(),
      },
      executionArn,
      statement?.finishedAt,
    );
    deps.telemetry.logger.info(
      released ? 'Released the session' : 'The session was not leased to this execution',
      {
        outcome,
      },
    );
  }
  const kept = dropped === undefined ? { released } : { released, dropped };
  if (outcome === 'SUCCEEDED') return kept;

  const strayLeases = await releaseStrayLeases(executionArn, query, session, input, deps);
  const failure = describeFailure(state);
  // The name only: the Cause holds the statement's error text, which can quote its data.
  deps.telemetry.logger.warn('Execution is failing', {
    error: failure.error,
    ...tenantData(deps.config, { cause: failure.cause }),
  });
  return strayLeases > 0 ? { ...kept, strayLeases, failure } : { ...kept, failure };
}

/**
 * A step can lease a session and then fail to hand its result to the state machine: SubmitQuery
 * opened and recorded a session but every attempt's response was lost, or AcquireSession leased
 * one and then kept failing. The state then names no session, and the lease would be held until
 * it runs out. Such leases are found in the tenant's pool by their owner and given back: unleased
 * when the failure came before any statement (AcquireSession), dropped otherwise, since a statement
 * may still be running on the session. Slots reserved for a session that was never opened (no
 * record of the pool holds them) are given back too.
 */
async function releaseStrayLeases(
  executionArn: string,
  query: Query | undefined,
  session: SessionRef | undefined,
  input: unknown,
  deps: StepDeps,
): Promise<number> {
  // A state that names its session has the one lease this execution can hold.
  if (query && session?.sessionId) return 0;
  // Without a query the failure came from AcquireSession; the input names the tenant then, if valid.
  const parsedInput = query ? undefined : executionInputSchema.safeParse(input);
  const tenantId =
    query?.tenantId ?? (parsedInput?.success ? parsedInput.data.tenantId : undefined);
  if (tenantId === undefined) return 0;
  const dbUser = query?.dbUser ?? dbUserFor(tenantId, deps.config.dbUserTemplate);
  // AcquireSession refused such a tenant before touching anything: it has no pool to look in.
  if (reservedDbUserReason(dbUser, deps.config.deniedDbUsers) !== undefined) return 0;
  // The reservations: the state's (a resubmission's), and the one AcquireSession wrote to the
  // execution's record before a failure that left no state.
  const record = await deps.store.executions.read(executionArn);
  const { unleased, dropped } = await deps.store.giveBack({
    tenantId,
    dbUser,
    owner: executionArn,
    // Before the state had a query, no statement was sent (AcquireSession failed).
    use: query ? { kind: 'unknown' } : { kind: 'unused' },
    reservations: [session?.reservation, record?.reservation],
  });
  const given = unleased.length + dropped.length;
  if (given > 0)
    deps.telemetry.logger.warn('Gave back leases the state did not name', { count: given });
  return given;
}

export const handler = stepHandler(releaseSession, {
  step: 'ReleaseSession',
  state: releaseEventSchema,
  deps: defaultDeps,
  tags: ({ executionArn, state: { query, statement, session } }) =>
    query && {
      tenantId: query.tenantId,
      executionArn,
      statementId: statement?.statementId,
      sessionId: session?.sessionId,
    },
});
