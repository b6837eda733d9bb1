import type { Connection } from './data-api.ts';
import type { StepDeps } from './deps.ts';
import { poolPollPauseMs } from './session-pool.ts';
import { leaseOrder, type SessionRecord } from './session-record.ts';
import { reservationNeedsRenewal, type SlotReservation } from './slot-reservation.ts';
import type { StatementStatus } from './workflow-state.ts';

/**
 * A query whose tenant has every session leased, and room below the cap, should wait no longer
 * than opening a session costs: so a session is opened at once, beside the wait, and the query
 * takes whichever comes first, a session given back or the new one (as a connection pool adds a
 * connection for a waiting request and hands it whatever is free first). The new session is
 * opened by a `select 1`, which needs no tenant data; it joins the pool either way, leased to the
 * waiting execution while it opens, and released to the pool if a session given back won.
 *
 * The wait is bounded by the opening itself: it ends when the `select 1` ends (DescribeStatement
 * long-polls on it, so its end is seen at once), or when the step runs out of time.
 */

/**
 * The longest pause between two reads of the pool while the new session opens: the open takes a
 * few hundred milliseconds, and a session given back late in it is still worth taking.
 */
const RACE_MAX_PAUSE_MS = 60;

/** The SQL that opens a session beside a wait: it reads nothing and writes nothing. */
export const OPENING_SQL = 'select 1';

/** What the pool records of a session {@link openOnReservation} opened. */
export interface OpenedBySelectOne {
  sessionId: string;
  /** The `select 1` that opened it, which may still be running. */
  warmupStatementId: string;
}

/**
 * Opens a session on slots already reserved by sending {@link OPENING_SQL} on it, answering at
 * once (the `select 1` may still run), and records it in the pool with `record`; when none opened,
 * gives the slots back with `giveBack`. `session-limit`: the Data API is at its session limit;
 * `open-failed`: it answered without a session. Any other error is thrown, and the slots are kept:
 * the call may have opened one, which a retry with the same `clientToken` gets back.
 */
export async function openOnReservation<Recorded>(
  deps: Pick<StepDeps, 'dataApi' | 'config'>,
  opening: { connection: Connection; clientToken: string },
  giveBack: () => Promise<unknown>,
  record: (opened: OpenedBySelectOne) => Promise<Recorded>,
): Promise<
  | ({ kind: 'opened'; recorded: Recorded } & OpenedBySelectOne)
  | { kind: 'session-limit' | 'open-failed' }
> {
  let opened: OpenedBySelectOne | undefined;
  try {
    const { statementId, sessionId } = await deps.dataApi.execute({
      sql: OPENING_SQL,
      clientToken: opening.clientToken,
      waitSeconds: 0,
      session: { open: { keepAliveSeconds: deps.config.sessionKeepAliveSeconds } },
      connection: opening.connection,
    });
    if (sessionId !== undefined) opened = { sessionId, warmupStatementId: statementId };
  } catch (error) {
    if (!(error instanceof Error && error.name === 'ActiveSessionsExceededException')) throw error;
    await giveBack();
    return { kind: 'session-limit' };
  }
  if (opened === undefined) {
    await giveBack();
    return { kind: 'open-failed' };
  }
  return { kind: 'opened', ...opened, recorded: await record(opened) };
}

export type RaceOutcome =
  /**
   * A session of the pool was given back first, and is leased now (a hit). `settling`: what is
   * left of the race once the query has its session (the new session, if opened, given back to
   * the pool, or the unused reservation's slots), still running so that the statement need not
   * wait for it; the caller awaits it before its step ends. It rejects with what DynamoDB or the
   * Data API threw; what it held is then kept until it lapses (see openOnReservation).
   */
  | { kind: 'pooled'; session: SessionRecord; waitedMs: number; settling: Promise<void> }
  /** The new session was ready first. */
  | { kind: 'opened'; session: SessionRecord; waitedMs: number }
  /** Neither: the new session could not be opened, or the step ran out of time. */
  | {
      kind: 'none';
      waitedMs: number;
      reason: 'session-limit' | 'open-failed' | 'deadline' | 'slots-lost';
    }
  /** The execution's run was stopped before a session was opened: nothing is held. */
  | { kind: 'stopped'; waitedMs: number };

export interface RaceRequest {
  tenantId: string;
  dbUser: string;
  owner: string;
  /** The execution's run (see ExecutionRecords). */
  run: number;
  reservation: SlotReservation;
  connection: Connection;
  /** The ClientToken of the opening `select 1`, so that a retried step reopens the same session. */
  clientToken: string;
  /** How long the step may wait at most (its Lambda's remaining time, less what it needs after). */
  budgetMs: number;
  /**
   * How long a session given back must stay open (until the query's deadline): one the Data API
   * closes sooner is not taken (see SessionStore.isLeasableFor).
   */
  lifeNeededSeconds: number;
}

type Deps = Pick<StepDeps, 'store' | 'dataApi' | 'config' | 'sleep' | 'clock'>;

/** Nothing left to settle. */
const settled: Promise<void> = Promise.resolve();

/** The first idle session of `pool` in {@link leaseOrder}, leased to `owner`; or undefined. */
async function leaseIdle(
  deps: Deps,
  pool: readonly SessionRecord[],
  owner: string,
  lifeNeededSeconds: number,
): Promise<SessionRecord | undefined> {
  const { store } = deps;
  const now = deps.clock();
  const idle = pool.filter((r) => store.isLeasableFor(r, now, lifeNeededSeconds)).sort(leaseOrder);
  for (const candidate of idle) {
    const leased = await store.tryLease(candidate, owner, now);
    if (leased) return leased;
  }
  return undefined;
}

/** How the opening of the new session ended (see {@link openNewSession}). */
type OpeningOutcome =
  /** Its `select 1` ended: the session is ready, leased to the waiting execution. */
  | { kind: 'ready'; session: SessionRecord }
  /** A session given back came first: the new one, if opened, is recorded and leased still. */
  | { kind: 'abandoned'; session?: SessionRecord }
  | { kind: 'none'; reason: 'session-limit' | 'open-failed' | 'deadline' | 'slots-lost' }
  | { kind: 'stopped' };

/**
 * Opens the new session on the reservation and waits for its `select 1` to end, unless `abandon`
 * fires first: before ExecuteStatement is sent, nothing is opened and the reservation is given
 * back; after it, the session the call opens is recorded in the pool (it holds the slots) and
 * handed back to the caller to unlease.
 */
async function openNewSession(
  deps: Deps,
  request: RaceRequest,
  pool: readonly SessionRecord[],
  abandon: AbortSignal,
  waited: () => number,
): Promise<OpeningOutcome> {
  const { store, dataApi } = deps;
  const { tenantId, dbUser, owner } = request;
  const giveBackUnused = (reservation: SlotReservation) =>
    store.giveBackUnlessHeld(tenantId, dbUser, reservation, pool);
  let reservation = request.reservation;
  if (abandon.aborted) {
    await giveBackUnused(reservation);
    return { kind: 'abandoned' };
  }
  // Said before the open, so that a stop's clean-up leaves these slots to this step.
  const begun = await store.executions.beginOpening(owner, request.run, reservation.claim);
  if (begun === false) {
    await giveBackUnused(reservation);
    return { kind: 'stopped' };
  }
  // The slots must hold for as long as this step can run: renewed unless nothing can have given
  // them back yet (AcquireSession of this run reserved them, moments ago).
  if (!begun.untouched || reservationNeedsRenewal(reservation, deps.clock())) {
    const renewed = await store.slots.renew(tenantId, dbUser, reservation);
    if (renewed === undefined) return { kind: 'none', reason: 'slots-lost' };
    reservation = renewed;
  }
  if (abandon.aborted) {
    await giveBackUnused(reservation);
    return { kind: 'abandoned' };
  }
  const opening = await openOnReservation(
    deps,
    request,
    () => giveBackUnused(reservation),
    (opened) => store.recordNewSession({ tenantId, dbUser, owner, reservation, ...opened }),
  );
  if (opening.kind !== 'opened') return { kind: 'none', reason: opening.kind };
  const spare = opening.recorded;

  // The opening's end, seen as soon as it comes: DescribeStatement long-polls on it.
  for (;;) {
    const left = request.budgetMs - waited();
    if (abandon.aborted) return { kind: 'abandoned', session: spare };
    if (left <= 0) {
      await store.unlease(spare, owner);
      return { kind: 'none', reason: 'deadline' };
    }
    const described = await dataApi
      .describe(
        opening.warmupStatementId,
        Math.max(1, Math.min(5, Math.floor(left / 1000))),
        abandon,
      )
      .catch((error: unknown) => {
        if (abandon.aborted) return undefined;
        throw error;
      });
    const status = described?.Status as StatementStatus | undefined;
    if (status === 'FINISHED') return { kind: 'ready', session: spare };
    if (status === 'FAILED' || status === 'ABORTED') {
      // Its connection could not be opened (an unknown user, ...): the session is of no use.
      await store.invalidate(tenantId, dbUser, spare.session_id, owner);
      return { kind: 'none', reason: 'open-failed' };
    }
  }
}

/**
 * Takes a session given back or a new one, whichever is first (see the module comment): the pool
 * is read from the start, while the new session is being opened. The reservation is used by the
 * new session, or given back when none was opened on it.
 *
 * A session given back is returned as soon as it is leased: the opening is stopped, and what it
 * opened given back to the pool, beside the query's statement (`settling`), not before it.
 *
 * Retry-safe: a session an earlier invocation of the step leased is taken again, and a
 * reservation is given back only while no session of the pool holds it (an earlier invocation
 * may have opened one on it that lost the race and joined the pool).
 */
export async function raceForSession(deps: Deps, request: RaceRequest): Promise<RaceOutcome> {
  const { store } = deps;
  const started = deps.clock().getTime();
  const waited = () => deps.clock().getTime() - started;
  const { tenantId, dbUser, owner } = request;

  const pool = await store.listPool(tenantId, dbUser);
  const mine = pool.find((r) => r.state === 'LEASED' && r.lease_owner === owner);
  if (mine) return { kind: 'pooled', session: mine, waitedMs: waited(), settling: settled };
  // A session may have come back since AcquireSession looked.
  const early = await leaseIdle(deps, pool, owner, request.lifeNeededSeconds);
  if (early) {
    const settling = store.giveBackUnlessHeld(tenantId, dbUser, request.reservation, pool);
    // Awaited by the caller; this only keeps a failure meanwhile from going unhandled.
    settling.catch(() => undefined);
    return { kind: 'pooled', session: early, waitedMs: waited(), settling };
  }

  const abandon = new AbortController();
  const opening = openNewSession(deps, request, pool, abandon.signal, waited);
  // Awaited on every path below; this only keeps a failure meanwhile from going unhandled.
  opening.catch(() => undefined);
  /** Stops the opening and waits for it: what it opened joins the pool. */
  const settleOpening = async () => {
    abandon.abort();
    const ended = await opening;
    if ((ended.kind === 'abandoned' || ended.kind === 'ready') && ended.session)
      await store.unlease(ended.session, owner);
    return ended;
  };
  for (let reads = 1; ; reads++) {
    const pause = Math.min(
      poolPollPauseMs(reads, RACE_MAX_PAUSE_MS),
      Math.max(0, request.budgetMs - waited()),
    );
    const tick = deps.sleep(pause).then(() => 'tick' as const);
    const first = await Promise.race([opening, tick]);
    if (first !== 'tick') {
      if (first.kind === 'ready')
        return { kind: 'opened', session: first.session, waitedMs: waited() };
      if (first.kind === 'stopped') return { kind: 'stopped', waitedMs: waited() };
      if (first.kind === 'none') return { kind: 'none', waitedMs: waited(), reason: first.reason };
    }
    const now = await store.listPool(tenantId, dbUser);
    const given = await leaseIdle(deps, now, owner, request.lifeNeededSeconds);
    // What the query waited for ends here; settling the opening is the step's own work.
    const waitedMs = waited();
    if (given) {
      // The query goes on with `given` while the opening settles. An opening that finds the run
      // stopped gives its slots back itself, and the stop is seen again by the submission's own
      // conditional write (beginSubmission), which then gives `given` back: nothing is sent.
      const settling = settleOpening().then(() => undefined);
      settling.catch(() => undefined);
      return { kind: 'pooled', session: given, waitedMs, settling };
    }
    if (waitedMs >= request.budgetMs) {
      const ended = await settleOpening();
      if (ended.kind === 'stopped') return { kind: 'stopped', waitedMs };
      return { kind: 'none', waitedMs, reason: 'deadline' };
    }
  }
}
