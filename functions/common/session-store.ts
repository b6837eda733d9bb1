import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  PutCommand,
  paginateQuery,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { rethrowTransient, SessionPoolExhaustedError } from './errors.ts';
import { ExecutionRecords } from './execution-record.ts';
import {
  reservationOf,
  SessionSlots,
  type SlotHolder,
  type SlotReservation,
} from './session-slots.ts';
import { MAX_SESSION_AGE_SECONDS, poolIdOf } from './table-keys.ts';

// The table's key scheme has a module of its own, which the slots and the execution records share;
// it is also reachable from here, where the pool that most items belong to lives.
export {
  INTERNAL_ITEM_KINDS,
  INTERNAL_KEY_PREFIXES,
  type InternalItemKind,
  internalPoolId,
  isInternalItem,
  MAX_SESSION_AGE_SECONDS,
  poolIdOf,
} from './table-keys.ts';

/**
 * The leased pool of Data API sessions, one DynamoDB item per session.
 *
 * A Data API session runs one statement at a time, so a session is handed to one execution at a
 * time through a lease: a conditional update from IDLE to LEASED that only one writer can win.
 * A tenant's pool (per tenant and db user) is one partition, read with one strongly consistent
 * Query. Only single-item conditional writes are used: no transactions. A session is opened only
 * on slots reserved for it ({@link SessionSlots}), so that neither a tenant's pool nor all pools
 * together grow past their caps, whatever the interleaving; and each step that takes something
 * writes it to its execution's record ({@link ExecutionRecords}), so that a stopped execution's
 * clean-up finds it.
 */

export type SessionState = 'IDLE' | 'LEASED';

/** A session item as stored. Timestamps are ISO 8601 UTC strings, which compare in time order. */
export interface SessionRecord extends SlotHolder {
  pool_id: string;
  session_id: string;
  tenant_id: string;
  db_user: string;
  created_at: string;
  last_used_at: string;
  /** When the Data API closes the session: keep-alive after the last statement, capped at 24 h. */
  expires_at: string;
  /** Epoch seconds for DynamoDB TTL, which deletes late; reads check expiry themselves. */
  ttl: number;
  state: SessionState;
  lease_owner?: string;
  lease_expires_at?: string;
  /**
   * A session opened beside a wait for a released one (see SubmitQuery) whose first statement,
   * a `select 1` that opens its connection, may still be running: whoever leases it waits for
   * that statement before submitting on it. Removed by the first release.
   */
  warmup_statement_id?: string;
}

export interface SessionPolicy {
  keepAliveSeconds: number;
  idleTimeoutSeconds: number;
  maxSessionsPerTenant: number;
  /** The cap on the sessions of every pool together (default: the Data API's 500). */
  maxSessionsTotal?: number;
  /** The cluster or workgroup the total cap counts sessions on (see totalSlotsKeyOf). */
  target?: string;
  /**
   * How long {@link SessionStore.acquire} waits for a leased session of a tenant whose pool is at
   * its cap before it fails. 0 or unset: it never waits.
   */
  acquireWaitMs?: number;
}

/** A session is reused only if it stays open at least this much longer: time to submit on it. */
export const REUSE_MARGIN_SECONDS = 30;
/**
 * How long a lease holds without renewal. PollStatus renews it on every poll, for this long after
 * the next one is due (polls are ~20 s apart at first, up to 15 minutes apart for a query of
 * hours), so only a lease whose execution vanished runs out, and then the session returns to the
 * pool on its own.
 */
export const LEASE_SECONDS = 300;

/**
 * The pause before the pool is read again while waiting for a session to be given back, after
 * `reads` reads: 20 ms, growing by half each time, at most `maxMs` (200 ms by default, so a few
 * reads a second). A short query gives its session back within tens of milliseconds, so the first
 * reads come soon; a longer wait costs a few reads a second, not one every few milliseconds.
 */
export function poolPollPauseMs(reads: number, maxMs = 200): number {
  return Math.min(maxMs, Math.round(20 * 1.5 ** Math.max(0, reads - 1)));
}

/** `waitedMs`: how long acquire waited for a leased session to be given back. */
export type AcquireResult =
  | { kind: 'hit'; session: SessionRecord; expiredRemoved: number; waitedMs: number }
  | {
      kind: 'miss';
      expiredRemoved: number;
      waitedMs: number;
      /** The slots reserved for the session SubmitQuery opens; none: it runs without a session. */
      reservation?: SlotReservation;
      /**
       * Every session of the pool was leased: SubmitQuery opens one and, meanwhile, takes a
       * session that is given back first, if one is (see SubmitQuery).
       */
      sessionsLeased?: boolean;
      /** Every slot of the cluster or workgroup was held (SPECTRA_MAX_SESSIONS_TOTAL). */
      atTotalCap?: boolean;
      /**
       * The tenant's pool is at its cap, and its idle sessions would be closed by the Data API
       * before the query may end (see {@link AcquireOptions.lifeNeededSeconds}): the query runs
       * without a session.
       */
      sessionless?: boolean;
      /** The execution had been stopped: what acquire took was given back. */
      ownerStopped?: boolean;
    };

export interface AcquireOptions {
  /** Overrides the policy's wait at the cap (0: take an idle session or decide at once). */
  waitMs?: number;
  /** The run (redrive count) of the execution; see ExecutionRecords. Default 0. */
  run?: number;
  /**
   * false: no slot is reserved on a miss, and the query runs without a session (SQL that leaves
   * state in its session: a session opened for it would be dropped at once).
   */
  mayOpen?: boolean;
  /**
   * How long the session must stay open: the sessions the Data API would close sooner (it closes
   * every session 24 hours after opening it) are passed over, so that a query that may run for
   * hours gets a session that lasts as long, or a new one. Default 0.
   */
  lifeNeededSeconds?: number;
}

const iso = (date: Date) => date.toISOString();
const plusSeconds = (date: Date | string, seconds: number) =>
  new Date(new Date(date).getTime() + seconds * 1000);
const epochSeconds = (date: Date | string) => Math.ceil(new Date(date).getTime() / 1000);
// ISO strings of one format compare in time order.
const laterOf = (a: string, b: string) => (a > b ? a : b);
const earlierOf = (a: string, b: string) => (a < b ? a : b);

/** The Data API's own limit on the sessions of a cluster or workgroup. */
const DATA_API_MAX_SESSIONS = 500;

export class SessionStore {
  /** The slots every session of the pools is opened on. */
  readonly slots: SessionSlots;
  /** What each execution holds, and whether it was stopped. */
  readonly executions: ExecutionRecords;

  constructor(
    protected readonly ddb: DynamoDBDocumentClient,
    protected readonly tableName: string,
    private readonly policy: SessionPolicy,
    protected readonly clock: () => Date = () => new Date(),
    private readonly sleep: (ms: number) => Promise<void> = (ms) =>
      new Promise((resolve) => setTimeout(resolve, ms)),
  ) {
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
    const byKeepAlive = plusSeconds(record.expires_at, -REUSE_MARGIN_SECONDS);
    const byIdle = plusSeconds(record.last_used_at, this.policy.idleTimeoutSeconds);
    return byKeepAlive < byIdle ? byKeepAlive : byIdle;
  }

  isLeaseLive(record: SessionRecord, now: Date): boolean {
    return (
      record.state === 'LEASED' &&
      record.lease_expires_at !== undefined &&
      record.lease_expires_at > iso(now)
    );
  }

  isExpired(record: SessionRecord, now: Date): boolean {
    return this.usableUntil(record) <= now;
  }

  /**
   * Whether the Data API would close the session before `lifeNeededSeconds` from now: it closes a
   * session 24 hours after opening it, and ends the statement running on it then.
   */
  closesWithin(record: SessionRecord, now: Date, lifeNeededSeconds: number): boolean {
    const closesAt = plusSeconds(record.created_at, MAX_SESSION_AGE_SECONDS - REUSE_MARGIN_SECONDS);
    return closesAt < plusSeconds(now, lifeNeededSeconds);
  }

  /**
   * Whether a query that needs its session for `lifeNeededSeconds` more may lease this one: not
   * leased, still worth reusing, and not closed by the Data API before then.
   */
  isLeasableFor(record: SessionRecord, now: Date, lifeNeededSeconds: number): boolean {
    return (
      !this.isLeaseLive(record, now) &&
      !this.isExpired(record, now) &&
      !this.closesWithin(record, now, lifeNeededSeconds)
    );
  }

  /** Every session of one tenant and db user, strongly consistent. */
  async listPool(tenantId: string, dbUser: string): Promise<SessionRecord[]> {
    const records: SessionRecord[] = [];
    try {
      const pages = paginateQuery(
        { client: this.ddb },
        {
          TableName: this.tableName,
          KeyConditionExpression: 'pool_id = :pool',
          ExpressionAttributeValues: { ':pool': poolIdOf(tenantId, dbUser) },
          ConsistentRead: true,
        },
      );
      for await (const page of pages) records.push(...((page.Items ?? []) as SessionRecord[]));
    } catch (error) {
      rethrowTransient(error, 'DynamoDB Query');
    }
    return records;
  }

  /**
   * Leases an idle, unexpired session of the pool to `owner` (an execution ARN), the most recently
   * used first, since it is the one most surely still open. A lost race moves on to the next one.
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

      const expired = pool.filter((r) => !this.isLeaseLive(r, now) && this.isExpired(r, now));
      const removed = new Set<SessionRecord>();
      for (const record of expired) {
        if (await this.deleteIfUnchanged(record, now)) removed.add(record);
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
        .sort((a, b) => (a.last_used_at < b.last_used_at ? 1 : -1));
      for (const candidate of candidates) {
        const leased = await this.tryLease(candidate, owner, now);
        if (leased) return this.keepUnlessStopped(leased, owner, run, expiredRemoved, waitedMs);
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
      const tooShortLived = open.filter((r) => this.closesWithin(r, now, lifeNeeded));
      const worthWaiting = tooShortLived.length < this.policy.maxSessionsPerTenant;
      if (worthWaiting && waitedMs < waitMs) {
        const pause = Math.min(poolPollPauseMs(reads), waitMs - waitedMs);
        await this.sleep(pause);
        waitedMs += pause;
        continue;
      }
      if (tooShortLived.some((r) => !this.isLeaseLive(r, now)))
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

  /**
   * Leases one idle (or abandoned) session to `owner`, unless another writer changed it since
   * `record` was read. Undefined when the race was lost.
   */
  async tryLease(
    record: SessionRecord,
    owner: string,
    now: Date = this.clock(),
  ): Promise<SessionRecord | undefined> {
    const leaseExpiresAt = iso(plusSeconds(now, LEASE_SECONDS));
    try {
      const result = await this.ddb.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pool_id: record.pool_id, session_id: record.session_id },
          // Idle, or leased by an execution that stopped renewing; and not refreshed meanwhile.
          ConditionExpression:
            'attribute_exists(session_id) AND (#state = :idle OR lease_expires_at < :now) AND last_used_at = :seenLastUsed',
          UpdateExpression:
            'SET #state = :leased, lease_owner = :owner, lease_expires_at = :leaseExpires, #ttl = :ttl',
          ExpressionAttributeNames: { '#state': 'state', '#ttl': 'ttl' },
          ExpressionAttributeValues: {
            ':idle': 'IDLE',
            ':leased': 'LEASED',
            ':now': iso(now),
            ':seenLastUsed': record.last_used_at,
            ':owner': owner,
            ':leaseExpires': leaseExpiresAt,
            ':ttl': epochSeconds(laterOf(record.expires_at, leaseExpiresAt)),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return result.Attributes as SessionRecord;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      return rethrowTransient(error, 'DynamoDB UpdateItem (lease)');
    }
  }

  /** Deletes an expired record as it was read, and gives its slots back. */
  protected async deleteIfUnchanged(record: SessionRecord, now: Date): Promise<boolean> {
    try {
      await this.ddb.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { pool_id: record.pool_id, session_id: record.session_id },
          ConditionExpression:
            'last_used_at = :seenLastUsed AND (#state = :idle OR lease_expires_at < :now)',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: {
            ':seenLastUsed': record.last_used_at,
            ':idle': 'IDLE',
            ':now': iso(now),
          },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      return rethrowTransient(error, 'DynamoDB DeleteItem (expired session)');
    }
    await this.giveBackSlotsOf(record);
    return true;
  }

  /**
   * Records a session the Data API just opened for `owner` on `reservation`'s slots, already
   * leased to it. Idempotent for the same owner, so a retried SubmitQuery that got the same session
   * back writes it again. `warmupStatementId`: the session was opened by a `select 1` that may
   * still be running (see {@link SessionRecord.warmup_statement_id}).
   */
  async recordNewSession(
    tenantId: string,
    dbUser: string,
    sessionId: string,
    owner: string,
    reservation: SlotReservation,
    warmupStatementId?: string,
  ): Promise<SessionRecord> {
    const now = this.clock();
    const leaseExpiresAt = iso(plusSeconds(now, LEASE_SECONDS));
    // Provisional: the keep-alive really counts from the end of the statement now running, which
    // release() records; until then this is the earliest the session can close.
    const expiresAt = iso(plusSeconds(now, this.policy.keepAliveSeconds));
    const record: SessionRecord = {
      pool_id: poolIdOf(tenantId, dbUser),
      session_id: sessionId,
      tenant_id: tenantId,
      db_user: dbUser,
      created_at: iso(now),
      last_used_at: iso(now),
      expires_at: expiresAt,
      ttl: epochSeconds(laterOf(expiresAt, leaseExpiresAt)),
      state: 'LEASED',
      lease_owner: owner,
      lease_expires_at: leaseExpiresAt,
      slot: reservation.slot,
      total_slot: reservation.totalSlot,
      slot_claim: reservation.claim,
      ...(warmupStatementId === undefined ? {} : { warmup_statement_id: warmupStatementId }),
    };
    try {
      await this.ddb.send(
        new PutCommand({
          TableName: this.tableName,
          Item: record,
          ConditionExpression: 'attribute_not_exists(session_id) OR lease_owner = :owner',
          ExpressionAttributeValues: { ':owner': owner },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        // The Data API never hands one session id to two statements that did not share a token.
        throw new Error(`Session ${sessionId} is already recorded for another execution`, {
          cause: error,
        });
      }
      rethrowTransient(error, 'DynamoDB PutItem (new session)');
    }
    return record;
  }

  /**
   * Extends `owner`'s lease by `holdSeconds` from now (default {@link LEASE_SECONDS}; PollStatus
   * asks for more when it waits longer before the next poll); false when the lease is no longer
   * `owner`'s.
   */
  async renewLease(
    tenantId: string,
    dbUser: string,
    sessionId: string,
    owner: string,
    holdSeconds = LEASE_SECONDS,
  ): Promise<boolean> {
    const leaseExpiresAt = iso(plusSeconds(this.clock(), holdSeconds));
    return this.conditionalUpdate(
      {
        Key: { pool_id: poolIdOf(tenantId, dbUser), session_id: sessionId },
        ConditionExpression: '#state = :leased AND lease_owner = :owner',
        UpdateExpression: 'SET lease_expires_at = :leaseExpires, #ttl = :ttl',
        ExpressionAttributeNames: { '#state': 'state', '#ttl': 'ttl' },
        ExpressionAttributeValues: {
          ':leased': 'LEASED',
          ':owner': owner,
          ':leaseExpires': leaseExpiresAt,
          // The session stays open at least until the lease ends, since a statement is running.
          ':ttl': epochSeconds(leaseExpiresAt),
        },
      },
      'DynamoDB UpdateItem (renew lease)',
    );
  }

  /**
   * Returns the session to the pool. The keep-alive restarts at `statementEndedAt` (the Data API's
   * own clock) but never past 24 hours from `createdAt`. False when `owner` held no lease on it
   * (already released, or the record is gone), which makes a repeated release harmless.
   */
  async release(
    session: { tenantId: string; dbUser: string; sessionId: string; createdAt: string },
    owner: string,
    statementEndedAt?: string,
  ): Promise<boolean> {
    const now = this.clock();
    const endedAt = statementEndedAt && statementEndedAt < iso(now) ? statementEndedAt : iso(now);
    const byKeepAlive = iso(plusSeconds(endedAt, this.policy.keepAliveSeconds));
    const byAge = iso(plusSeconds(session.createdAt, MAX_SESSION_AGE_SECONDS));
    const expiresAt = earlierOf(byKeepAlive, byAge);
    return this.conditionalUpdate(
      {
        Key: { pool_id: poolIdOf(session.tenantId, session.dbUser), session_id: session.sessionId },
        ConditionExpression: '#state = :leased AND lease_owner = :owner',
        // A statement ran on it since it was opened: its opening statement has ended too.
        UpdateExpression:
          'SET #state = :idle, last_used_at = :endedAt, expires_at = :expiresAt, #ttl = :ttl REMOVE lease_owner, lease_expires_at, warmup_statement_id',
        ExpressionAttributeNames: { '#state': 'state', '#ttl': 'ttl' },
        ExpressionAttributeValues: {
          ':leased': 'LEASED',
          ':idle': 'IDLE',
          ':owner': owner,
          ':endedAt': endedAt,
          ':expiresAt': expiresAt,
          ':ttl': epochSeconds(expiresAt),
        },
      },
      'DynamoDB UpdateItem (release)',
    );
  }

  /**
   * Gives back a lease that was never used: the session is IDLE again with its keep-alive as it
   * was (no statement ran on it). False when `owner` no longer held it.
   */
  async unlease(session: { pool_id: string; session_id: string }, owner: string): Promise<boolean> {
    return this.conditionalUpdate(
      {
        Key: { pool_id: session.pool_id, session_id: session.session_id },
        ConditionExpression: '#state = :leased AND lease_owner = :owner',
        UpdateExpression: 'SET #state = :idle REMOVE lease_owner, lease_expires_at',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':leased': 'LEASED', ':idle': 'IDLE', ':owner': owner },
      },
      'DynamoDB UpdateItem (unlease)',
    );
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

  private async deleteSession(
    tenantId: string,
    dbUser: string,
    sessionId: string,
    owner: string,
  ): Promise<SessionRecord | undefined> {
    try {
      const result = await this.ddb.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { pool_id: poolIdOf(tenantId, dbUser), session_id: sessionId },
          // Only the lease holder drops it: another execution may have leased it after our lease lapsed.
          ConditionExpression:
            'attribute_exists(session_id) AND (lease_owner = :owner OR #state = :idle)',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':owner': owner, ':idle': 'IDLE' },
          ReturnValues: 'ALL_OLD',
        }),
      );
      return result.Attributes as SessionRecord;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      return rethrowTransient(error, 'DynamoDB DeleteItem (invalidate)');
    }
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

  /** Gives back the slots a session record held, once the record is gone. */
  protected async giveBackSlotsOf(record: SessionRecord): Promise<void> {
    const reservation = reservationOf(record);
    if (reservation) await this.slots.giveBack(record.tenant_id, record.db_user, reservation);
  }

  /** Deletes a mark or claim as it was read: a claim written again since then is kept. */
  protected async deleteMark(mark: { pool_id: string; session_id: string; expires_at: string }) {
    try {
      await this.ddb.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { pool_id: mark.pool_id, session_id: mark.session_id },
          ConditionExpression: 'expires_at = :seenExpires',
          ExpressionAttributeValues: { ':seenExpires': mark.expires_at },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      return rethrowTransient(error, 'DynamoDB DeleteItem (mark)');
    }
  }

  private async conditionalUpdate(
    input: Omit<ConstructorParameters<typeof UpdateCommand>[0], 'TableName'>,
    operation: string,
  ): Promise<boolean> {
    try {
      await this.ddb.send(new UpdateCommand({ TableName: this.tableName, ...input }));
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      return rethrowTransient(error, operation);
    }
  }
}
