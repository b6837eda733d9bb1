import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SessionPoolExhaustedError } from './errors.ts';
import { ExecutionRecords } from './execution-record.ts';
import { SessionLeases } from './session-leases.ts';
import {
  type AcquireOptions,
  type AcquireResult,
  type GiveBackRequest,
  type GivenBack,
  poolPollPauseMs,
  type SessionPolicy,
  type SessionPool,
} from './session-pool.ts';
import {
  closesWithin,
  isExpired,
  isLeaseLive,
  leaseOrder,
  leasesOf,
  type SessionRecord,
  usableUntil,
} from './session-record.ts';
import { SessionSlots } from './session-slots.ts';
import { reservationOf, type SlotReservation } from './slot-reservation.ts';
import { poolIdOf } from './table-keys.ts';

/**
 * Spectra's pool of Data API sessions ({@link SessionPool}), one DynamoDB item per session, written
 * through {@link SessionLeases}. A session is opened only on slots reserved for it
 * ({@link SessionSlots}), so that neither a tenant's pool nor all pools together grow past their
 * caps, whatever the interleaving; and each step that takes something writes it to its
 * execution's record ({@link ExecutionRecords}), so that a stopped execution's clean-up finds it.
 */

/** The Data API's own limit on the sessions of a cluster or workgroup. */
const DATA_API_MAX_SESSIONS = 500;

export class SessionStore extends SessionLeases implements SessionPool {
  /** The slots every session of the pools is opened on. */
  readonly slots: SessionSlots;
  /** What each execution holds, and whether it was stopped. */
  readonly executions: ExecutionRecords;

  constructor(
    ddb: DynamoDBDocumentClient,
    tableName: string,
    private readonly policy: SessionPolicy,
    clock: () => Date = () => new Date(),
    private readonly sleep: (ms: number) => Promise<void> = (ms) =>
      new Promise((resolve) => setTimeout(resolve, ms)),
  ) {
    super(ddb, tableName, policy.keepAliveSeconds, clock);
    this.slots = new SessionSlots(
      ddb,
      tableName,
      {
        perTenant: policy.maxSessionsPerTenant,
        total: policy.maxSessionsTotal ?? DATA_API_MAX_SESSIONS,
        target: policy.target ?? 'default',
      },
      clock,
    );
    this.executions = new ExecutionRecords(ddb, tableName, clock);
  }

  /** When a session stops being worth reusing: Data API expiry or Spectra's idle timeout. */
  usableUntil(record: SessionRecord): Date {
    return usableUntil(record, this.policy.idleTimeoutSeconds);
  }

  isExpired(record: SessionRecord, now: Date): boolean {
    return isExpired(record, now, this.policy.idleTimeoutSeconds);
  }

  isLeasableFor(record: SessionRecord, now: Date, lifeNeededSeconds: number): boolean {
    return (
      !isLeaseLive(record, now) &&
      !this.isExpired(record, now) &&
      !closesWithin(record, now, lifeNeededSeconds)
    );
  }

  /**
   * Leases an idle, unexpired session of the pool to `owner` (an execution ARN), in
   * {@link leaseOrder}: ready before warming up, the most recently used first. A lost race moves on
   * to the next one. A lease that takes the last idle session of a pool below its cap while another
   * session of it is leased says `spareWanted`: SubmitQuery opens a spare beside the statement.
   * Expired records met on the way are deleted and their slots given back.
   *
   * None idle: a miss, with slots reserved for the session SubmitQuery opens (see
   * {@link SessionSlots}): `sessionsLeased` says the pool had sessions, all leased, so that
   * SubmitQuery can take one that comes back while it opens its own. Without a free slot of the
   * cluster or workgroup, a miss with no reservation (`atTotalCap`: the query runs without a
   * session). At the tenant's cap it waits up to `acquireWaitMs` for a session to be given back,
   * reading the pool with a growing pause ({@link poolPollPauseMs}), and then fails: it never
   * opens a session past the cap.
   *
   * Every lease and reservation is written to the execution's record, for its run; if the run
   * was stopped, what was taken is given back and the miss says `ownerStopped`. Retry-safe: if
   * `owner` already holds a lease in the pool (a retried invocation), that session is returned
   * again instead of leasing a second one.
   *
   * `options.lifeNeededSeconds` passes over the sessions the Data API would close sooner: at the
   * cap it waits only while a session that lasts long enough may come back, and when such short-
   * lived sessions are idle in the pool, the query then gets none (a miss with `sessionless`)
   * rather than failing.
   *
   * @throws {SessionPoolExhaustedError} when every session is still leased after the wait and the
   * pool is at its cap.
   */
  async acquire(
    tenantId: string,
    dbUser: string,
    owner: string,
    options: AcquireOptions = {},
  ): Promise<AcquireResult> {
    const waitMs = options.waitMs ?? this.policy.acquireWaitMs ?? 0;
    const run = options.run ?? 0;
    let waitedMs = 0;
    let reads = 0;
    let expiredRemoved = 0;
    for (;;) {
      const now = this.clock();
      const pool = await this.listPool(tenantId, dbUser);
      reads++;

      const alreadyMine = pool.find((r) => r.state === 'LEASED' && r.lease_owner === owner);
      if (alreadyMine)
        return this.keepUnlessStopped(alreadyMine, owner, run, expiredRemoved, waitedMs);

      const expired = pool.filter((r) => !isLeaseLive(r, now) && this.isExpired(r, now));
      const removed = new Set<SessionRecord>();
      for (const record of expired) {
        if (await this.removeExpired(record, now)) removed.add(record);
      }
      expiredRemoved += removed.size;
      const open = pool.filter((r) => !expired.includes(r));
      // An expired record that changed before its delete (its lease holder gave it back just
      // then) is still in the pool, and holds its slots: the slots are reserved against every
      // record left, or one whose reservation lapsed long ago would be taken over beside it.
      const left = pool.filter((r) => !removed.has(r));

      const lifeNeeded = options.lifeNeededSeconds ?? 0;
      const candidates = open
        .filter((r) => this.isLeasableFor(r, now, lifeNeeded))
        .sort(leaseOrder);
      for (const [index, candidate] of candidates.entries()) {
        const leased = await this.tryLease(candidate, owner, now);
        if (!leased) continue;
        const hit = await this.keepUnlessStopped(leased, owner, run, expiredRemoved, waitedMs);
        // The last idle session, taken while another query of the tenant holds one, below the
        // cap: the tenant runs queries side by side, and the next one would find none idle.
        const lastIdle = index === candidates.length - 1;
        const othersLeased = open.some((r) => r !== candidate && isLeaseLive(r, now));
        if (hit.kind !== 'hit' || options.mayOpen === false || !lastIdle || !othersLeased)
          return hit;
        if (left.length >= this.policy.maxSessionsPerTenant) return hit;
        const heldSlots = left.flatMap((r) =>
          r.slot === undefined || r.slot_claim === undefined
            ? []
            : [{ slot: r.slot, claim: r.slot_claim }],
        );
        return { ...hit, spareWanted: { heldSlots } };
      }

      if (options.mayOpen === false) return { kind: 'miss', expiredRemoved, waitedMs };
      const reserved = await this.slots.reserve(tenantId, dbUser, owner, left);
      if (reserved.kind === 'reserved') {
        // Another query of the tenant opening a session counts as a leased one: its session
        // joins the pool when it is open, and may be given back before this query's own is ready.
        const { reservation } = reserved;
        const held = await this.executions.holdReservation(
          owner,
          run,
          { tenantId, dbUser },
          reservation,
        );
        if (held === false) {
          // Stopped meanwhile: the clean-up read the record before this reservation was in it.
          await this.slots.giveBack(tenantId, dbUser, reservation);
          return { kind: 'miss', expiredRemoved, waitedMs, ownerStopped: true };
        }
        // A retried invocation reserved before: that reservation holds no session yet.
        if (held.previous !== undefined && held.previous.claim !== reservation.claim)
          await this.slots.giveBack(tenantId, dbUser, held.previous);
        return {
          kind: 'miss',
          expiredRemoved,
          waitedMs,
          reservation,
          sessionsLeased: open.length > 0 || reserved.othersOpening,
        };
      }
      if (reserved.kind === 'total-cap')
        return { kind: 'miss', expiredRemoved, waitedMs, atTotalCap: true };

      // At the tenant's cap: only a session given back can serve this query, and not one that
      // would close before this query may end. Every slot held by such a session: none can.
      const tooShortLived = open.filter((r) => closesWithin(r, now, lifeNeeded));
      const worthWaiting = tooShortLived.length < this.policy.maxSessionsPerTenant;
      if (worthWaiting && waitedMs < waitMs) {
        const pause = Math.min(poolPollPauseMs(reads), waitMs - waitedMs);
        await this.sleep(pause);
        waitedMs += pause;
        continue;
      }
      if (tooShortLived.some((r) => !isLeaseLive(r, now)))
        return { kind: 'miss', expiredRemoved, waitedMs, sessionless: true };
      throw new SessionPoolExhaustedError(
        `Tenant ${tenantId} holds ${open.length} sessions, all leased${waitMs > 0 ? ` for the ${waitMs} ms it waited` : ''}, and every slot of its pool is taken; the cap is ${this.policy.maxSessionsPerTenant} (SPECTRA_MAX_SESSIONS_PER_TENANT)`,
      );
    }
  }

  /**
   * A lease just taken is kept unless its owner's run was stopped meanwhile: then it is given
   * back, as the stopped execution's clean-up would have done had the lease existed when it read
   * the pool.
   */
  private async keepUnlessStopped(
    session: SessionRecord,
    owner: string,
    run: number,
    expiredRemoved: number,
    waitedMs: number,
  ): Promise<AcquireResult> {
    if (await this.executions.confirmRun(owner, run))
      return { kind: 'hit', session, expiredRemoved, waitedMs };
    await this.unlease(session, owner);
    return { kind: 'miss', expiredRemoved, waitedMs, ownerStopped: true };
  }

  /** Deletes an expired record as it was read, and gives its slots back. */
  protected async removeExpired(record: SessionRecord, now: Date): Promise<boolean> {
    if (!(await this.deleteIfUnchanged(record, now))) return false;
    await this.giveBackSlotsOf(record);
    return true;
  }

  /**
   * Drops a session from the pool and gives its slots back: one the Data API refused, one inside a
   * failed transaction, one whose SQL left state in it, or one a statement may still be running on.
   * This is the one way a session leaves the pool other than by expiry. The Data API has no call
   * that closes a session: it stays open until its keep-alive runs out, counting against the Data
   * API's own session limit until then (not against Spectra's caps, which count the pools).
   * False when the record was already gone, or is leased to another execution.
   */
  async invalidate(
    tenantId: string,
    dbUser: string,
    sessionId: string,
    owner: string,
  ): Promise<boolean> {
    const dropped = await this.deleteSession(tenantId, dbUser, sessionId, owner);
    if (dropped) await this.giveBackSlotsOf(dropped);
    return dropped !== undefined;
  }

  /**
   * Drops a session the Data API refused, as {@link invalidate} does, but keeps its slots for the
   * session that replaces it: the refused session is closed, so they count nothing on the Data
   * API any more. Returns the renewed reservation, or undefined when the record was gone (or not
   * `owner`'s) or its slots were lost; the caller then opens without one.
   */
  async replaceRefusedSession(
    tenantId: string,
    dbUser: string,
    sessionId: string,
    owner: string,
  ): Promise<SlotReservation | undefined> {
    const dropped = await this.deleteSession(tenantId, dbUser, sessionId, owner);
    const reservation = dropped ? reservationOf(dropped) : undefined;
    return reservation && this.slots.renew(tenantId, dbUser, reservation);
  }

  /**
   * Gives back a reservation's slots unless a session of the pool holds them: a step that gives
   * back what it reserved may be a retry of an invocation that opened a session on it, which is
   * in the pool now. `pool`: the pool as the caller just read it, if it has.
   */
  async giveBackUnlessHeld(
    tenantId: string,
    dbUser: string,
    reservation: SlotReservation,
    pool?: readonly SessionRecord[],
  ): Promise<void> {
    const records = pool ?? (await this.listPool(tenantId, dbUser));
    if (!records.some((record) => record.slot_claim === reservation.claim))
      await this.slots.giveBack(tenantId, dbUser, reservation);
  }

  /**
   * Gives back what `owner` holds, one session after the other, as `request.use` says: unleased
   * when nothing ran on it; dropped when a statement may still run on it or its SQL left state in
   * it; otherwise back to the pool once the Data API says it runs nothing, dropped if it does not.
   * Then each reservation that no session of the pool (as first read) holds. The pool is read
   * only when the caller neither named the sessions nor passed it and a reservation needs it.
   */
  async giveBack(request: GiveBackRequest): Promise<GivenBack> {
    const { tenantId, dbUser, owner, use } = request;
    const reservations = (request.reservations ?? []).filter(
      (reservation): reservation is SlotReservation => reservation !== undefined,
    );
    const needsPool = request.sessions === undefined || reservations.length > 0;
    const pool =
      request.pool ?? (needsPool ? await this.listPool(tenantId, dbUser) : ([] as SessionRecord[]));
    const alsoHeld = request.alsoHeld ?? [];
    const sessions = request.sessions ?? [...leasesOf(pool, owner), ...alsoHeld];
    const given: GivenBack = { unleased: [], released: [], dropped: [] };
    for (const session of sessions) {
      const sessionId = session.session_id;
      const fate =
        use.kind === 'unused'
          ? 'unlease'
          : use.kind === 'unknown' || use.leftState || use.runningOn === sessionId
            ? 'drop'
            : (await use.runsNothing(sessionId))
              ? 'release'
              : 'drop';
      if (fate === 'unlease') {
        const key = { pool_id: poolIdOf(tenantId, dbUser), session_id: sessionId };
        if (await this.unlease(key, owner)) given.unleased.push(sessionId);
      } else if (fate === 'release') {
        const pooled = { tenantId, dbUser, sessionId, createdAt: session.created_at };
        const endedAt = use.kind === 'settled' ? use.endedAt : undefined;
        if (await this.release(pooled, owner, endedAt)) given.released.push(sessionId);
      } else if (await this.invalidate(tenantId, dbUser, sessionId, owner)) {
        given.dropped.push(sessionId);
      }
    }
    const held = (claim: string) =>
      [...pool, ...alsoHeld].some((record) => record.slot_claim === claim);
    for (const reservation of reservations)
      if (!held(reservation.claim)) await this.slots.giveBack(tenantId, dbUser, reservation);
    return given;
  }

  /** Gives back the slots a session record held, once the record is gone. */
  protected async giveBackSlotsOf(record: SessionRecord): Promise<void> {
    const reservation = reservationOf(record);
    if (reservation) await this.slots.giveBack(record.tenant_id, record.db_user, reservation);
  }
}
