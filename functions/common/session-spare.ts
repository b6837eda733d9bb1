import { randomUUID } from 'node:crypto';
import type { Connection } from './data-api.ts';
import type { StepDeps } from './deps.ts';
import { countSession } from './observability.ts';
import type { HeldSlot } from './session-pool.ts';
import { openOnReservation } from './session-race.ts';

/**
 * A query that leases the last idle session of a tenant whose pool is below its cap, while another
 * query of the tenant holds one, leaves the tenant's next concurrent query nothing idle: that query
 * would open a session and wait for one to come back meanwhile (see raceForSession), paying the
 * open and a dozen reads of the pool. So the query that takes the last one opens a spare beside
 * its statement, as a connection pool keeps a few idle connections ahead of demand: slots reserved
 * first (so neither cap can be passed), then a `select 1` that opens the session, recorded idle in
 * the pool at once while it runs. Whoever leases it waits for that `select 1` first (see
 * awaitOpening).
 *
 * Bounded: one spare per query that took the last idle session; none while another query of the
 * tenant is opening a session (its reservation is seen when the spare's slot is reserved), so at
 * most one is being opened per tenant at a time; none at the tenant's or the cluster's cap (no
 * slot is had); none for a query without a session (it leased none). The spare belongs to no
 * execution: a stop of the query that opens it does not touch it, and failing to open it never
 * fails the query. The step waits for the spare's requests (the slots, ExecuteStatement, the
 * record), which run beside its statement, not for the open itself.
 */

export type SpareOutcome =
  | { kind: 'opened'; sessionId: string }
  | {
      kind: 'skipped';
      reason: 'tenant-cap' | 'total-cap' | 'others-opening' | 'session-limit' | 'open-failed';
    };

export interface SpareRequest {
  tenantId: string;
  dbUser: string;
  /** The execution whose query asked for the spare: it owns the reservation until it is recorded. */
  owner: string;
  /** The slots the pool's records held when AcquireSession read it. */
  heldSlots: readonly HeldSlot[];
  connection: Connection;
}

type Deps = Pick<StepDeps, 'store' | 'dataApi' | 'config'>;

/**
 * Opens a spare session for the tenant and records it idle in the pool, or says why not. Throws
 * only what DynamoDB or the Data API threw; the reservation is then kept until it lapses, since the
 * session may have been opened (see SessionSlots), and the caller goes on without a spare.
 */
export async function openSpareSession(deps: Deps, request: SpareRequest): Promise<SpareOutcome> {
  const { store } = deps;
  const { tenantId, dbUser, owner } = request;
  const pool = request.heldSlots.map(({ slot, claim }) => ({ slot, slot_claim: claim }));
  const reserved = await store.slots.reserve(tenantId, dbUser, owner, pool);
  if (reserved.kind !== 'reserved') return { kind: 'skipped', reason: reserved.kind };
  const { reservation } = reserved;
  if (reserved.othersOpening) {
    await store.slots.giveBack(tenantId, dbUser, reservation);
    return { kind: 'skipped', reason: 'others-opening' };
  }
  // Its own token: a retried step opens another spare rather than getting back this one, which
  // may have been used and dropped since (its SQL left state in it).
  const opening = await openOnReservation(
    deps,
    { connection: request.connection, clientToken: randomUUID() },
    () => store.slots.giveBack(tenantId, dbUser, reservation),
    (opened) => store.recordIdleSession({ tenantId, dbUser, reservation, ...opened }),
  );
  if (opening.kind !== 'opened') return { kind: 'skipped', reason: opening.kind };
  // A session id the pool has already holds slots of its own.
  if (opening.recorded === undefined) await store.giveBackUnlessHeld(tenantId, dbUser, reservation);
  return { kind: 'opened', sessionId: opening.sessionId };
}

/**
 * Opens the spare a step's state asks for ({@link openSpareSession}) and reports how it went;
 * resolves whatever happens, so that the step awaits it beside its own work and never fails for it.
 */
export async function openRequestedSpare(
  deps: Pick<StepDeps, 'store' | 'dataApi' | 'config' | 'telemetry'>,
  request: SpareRequest,
): Promise<SpareOutcome | undefined> {
  const { telemetry } = deps;
  try {
    const outcome = await openSpareSession(deps, request);
    if (outcome.kind === 'opened') {
      countSession(telemetry, 'SessionCreated');
      telemetry.logger.info('Opened a spare session for the next query of the tenant', {
        sessionId: outcome.sessionId,
      });
    } else {
      telemetry.logger.info('No spare session opened', { reason: outcome.reason });
    }
    return outcome;
  } catch (error) {
    telemetry.logger.warn('Could not open a spare session; the query goes on without one', {
      error: error instanceof Error ? error.name : String(error),
    });
    return undefined;
  }
}
