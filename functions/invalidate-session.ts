import { defaultDeps, type StepDeps } from '#common/deps';
import { SessionUnavailableError } from '#common/errors';
import { stepHandler, workflowTags } from '#common/handler';
import { countSession, tenantData } from '#common/observability';
import { HISTORY_EVENTS_AT_MOST } from '#common/polling';
import type { SlotReservation } from '#common/slot-reservation';
import { type QueryState, queryStateSchema } from '#common/workflow-state';

/** How many times one execution resubmits after a stale session before it gives up. */
export const MAX_RESUBMITS = 2;

/**
 * Runs when SubmitQuery or PollStatus reported a stale session (the Data API refused it, or a
 * reused session answered that it is inside a failed transaction): drops the session from the pool
 * so that no other execution leases it, and sends the query back to SubmitQuery without a session,
 * which opens a new one on the refused session's slots. The `submitAttempt` moves on, so the
 * resubmission gets a new ClientToken.
 *
 * @throws {SessionUnavailableError} after {@link MAX_RESUBMITS} resubmissions.
 */
export async function invalidateSession(state: QueryState, deps: StepDeps): Promise<QueryState> {
  const { query, session } = state;
  const { store } = deps;
  const tenant = { tenantId: query.tenantId, dbUser: query.dbUser };
  let reservation: SlotReservation | undefined = session.reservation;
  // A state without a session: SubmitQuery took one of the pool (or opened one) while it waited
  // for a session, and the Data API refused it; the error path carries SubmitQuery's input, so
  // the session is found by its lease, the only one this execution holds.
  const refusedId =
    session.sessionId ??
    (await store.listPool(query.tenantId, query.dbUser)).find(
      (record) => record.state === 'LEASED' && record.lease_owner === state.executionArn,
    )?.session_id;
  if (refusedId !== undefined) {
    reservation = await store.replaceRefusedSession(
      query.tenantId,
      query.dbUser,
      refusedId,
      state.executionArn,
    );
    countSession(deps.telemetry, 'SessionInvalidated');
    deps.telemetry.logger.warn('Dropped a stale session', {
      error: state.error?.Error,
      slotsKept: reservation !== undefined,
      ...tenantData(deps.config, { cause: state.error?.Cause }),
    });
  }
  const giveUp = state.resubmits >= MAX_RESUBMITS;
  // Written where a stop's clean-up finds it; a stopped run, or a query that gives up, keeps none.
  if (
    reservation &&
    (giveUp ||
      (await store.executions.holdReservation(
        state.executionArn,
        state.run ?? 0,
        tenant,
        reservation,
      )) === false)
  ) {
    await store.giveBackUnlessHeld(query.tenantId, query.dbUser, reservation);
    reservation = undefined;
  }
  if (giveUp) {
    throw new SessionUnavailableError(
      `${state.resubmits + 1} sessions in a row were stale for tenant ${query.tenantId} (refused by the Data API, or inside a failed transaction); gave up after ${MAX_RESUBMITS} resubmissions`,
    );
  }
  return {
    ...state,
    session: { sessionId: null, reused: false, ...(reservation ? { reservation } : {}) },
    submitAttempt: state.submitAttempt + 1,
    resubmits: state.resubmits + 1,
    historyEventsBound: state.historyEventsBound + HISTORY_EVENTS_AT_MOST.task,
    statement: undefined,
    error: undefined,
  };
}

export const handler = stepHandler(invalidateSession, {
  step: 'InvalidateSession',
  state: queryStateSchema,
  deps: defaultDeps,
  tags: workflowTags,
});
