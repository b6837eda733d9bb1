import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  paginateQuery,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { rethrowTransient, SessionPoolExhaustedError } from './errors.ts';

/**
 * The leased pool of Data API sessions, one DynamoDB item per session.
 *
 * A Data API session runs one statement at a time, so a session is handed to one execution at a
 * time through a lease: a conditional update from IDLE to LEASED that only one writer can win.
 * A tenant's pool (per tenant and db user) is one partition, read with one strongly consistent
 * Query. Only single-item conditional writes are used: no transactions. Besides the sessions, the
 * table holds Spectra's own items (a mark per stopped execution, a claim per pool being opened),
 * each in a partition no tenant can produce (see {@link internalPoolId}).
 */

export type SessionState = 'IDLE' | 'LEASED';

/** A session item as stored. Timestamps are ISO 8601 UTC strings, which compare in time order. */
export interface SessionRecord {
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
}

export interface SessionPolicy {
  keepAliveSeconds: number;
  idleTimeoutSeconds: number;
  maxSessionsPerTenant: number;
  /**
   * How long {@link SessionStore.acquire} waits for a leased session of the tenant to come back
   * before it reports a miss (or, at the cap, fails). 0 or unset: it never waits.
   */
  acquireWaitMs?: number;
}

/** A session is reused only if it stays open at least this much longer: time to submit on it. */
export const REUSE_MARGIN_SECONDS = 30;
/** The Data API force-closes a session 24 hours after it was opened. */
export const MAX_SESSION_AGE_SECONDS = 24 * 60 * 60;
/**
 * How long a lease holds without renewal. PollStatus renews it on every poll, for this long after
 * the next one is due (polls are ~20 s apart at first, up to 15 minutes apart for a query of
 * hours), so only a lease whose execution vanished runs out, and then the session returns to the
 * pool on its own.
 */
export const LEASE_SECONDS = 300;

/**
 * How long the mark of a stopped execution is kept: far longer than a step of that execution can
 * still be running after the stop (a Lambda's timeout), so that every such step sees it.
 */
export const STOPPED_MARK_SECONDS = 3600;

/**
 * Spectra's own items, the kinds it keeps in the table beside the sessions. Each has a partition of
 * its own, `#<kind>#<id>`, so that it is never part of a tenant's pool and no tenant's pool is ever
 * taken for one: a pool id is `<tenant>#<db user>` and a tenant id starts with a letter (see the
 * input schema), so no pool id starts with `#`, whatever the tenant id. A new kind of item is added
 * here and nowhere else.
 */
export const INTERNAL_ITEM_KINDS = ['stopped', 'opening'] as const;
export type InternalItemKind = (typeof INTERNAL_ITEM_KINDS)[number];

const INTERNAL_KEY_MARK = '#';

/** The partition key of one of Spectra's own items. */
export const internalPoolId = (kind: InternalItemKind, id: string): string =>
  `${INTERNAL_KEY_MARK}${kind}#${id}`;

/** How each kind's partition keys start: `#stopped#`, `#opening#`, ... */
export const INTERNAL_KEY_PREFIXES: readonly string[] = INTERNAL_ITEM_KINDS.map((kind) =>
  internalPoolId(kind, ''),
);

/** Whether an item is one of Spectra's own rather than a tenant's session. */
export const isInternalItem = (item: { pool_id: string }): boolean =>
  item.pool_id.startsWith(INTERNAL_KEY_MARK);

/** A stopped execution's mark (see {@link SessionStore.markStopped}). */
export interface StoppedMark {
  pool_id: string;
  session_id: 'stopped';
  execution_arn: string;
  created_at: string;
  expires_at: string;
  ttl: number;
}

const stoppedMarkKey = (executionArn: string) => ({
  pool_id: internalPoolId('stopped', executionArn),
  session_id: 'stopped' as const,
});

/**
 * How long a claim to open a pool's first session holds: as long as SubmitQuery can take to open
 * it (its Lambda timeout). SubmitQuery deletes the claim as soon as the session is recorded, so
 * only a claim whose SubmitQuery died runs this long, and it only makes acquirers wait.
 */
export const OPENING_CLAIM_SECONDS = 60;

/**
 * The claim of one execution to open a tenant's first session (see
 * {@link SessionStore.acquire}). One per pool, in the internal partition `#opening#<pool id>`.
 */
export interface OpeningClaim {
  pool_id: string;
  session_id: 'opening';
  owner: string;
  created_at: string;
  expires_at: string;
  ttl: number;
}

const openingClaimKey = (tenantId: string, dbUser: string) => ({
  pool_id: internalPoolId('opening', poolIdOf(tenantId, dbUser)),
  session_id: 'opening' as const,
});

/**
 * The pause before acquire reads the pool again, after waiting `waitedMs` of `waitMs`. The longer
 * an execution has waited, the more often it reads (50 ms at first, 10 ms at the end), so that a
 * session given back tends to go to the execution that has waited longest: DynamoDB has no queue
 * that would make it first come, first served, and without this a newcomer would often take the
 * session while an older waiter runs out of time and opens one.
 */
export function acquirePollDelayMs(waitedMs: number, waitMs: number): number {
  return Math.max(10, Math.round(50 * (1 - waitedMs / waitMs)));
}

/** `waitedMs`: how long acquire waited for a session to be released or opened. */
export type AcquireResult =
  | { kind: 'hit'; session: SessionRecord; expiredRemoved: number; waitedMs: number }
  /**
   * `ownerStopped`: a session was leased, but the execution had been stopped; it was given back.
   * `sessionless`: the pool is full, and its idle sessions would be closed by the Data API before
   * the query may end (see `lifeNeededSeconds`): the query runs without a session.
   */
  | {
      kind: 'miss';
      expiredRemoved: number;
      waitedMs: number;
      ownerStopped?: boolean;
      sessionless?: boolean;
    };

const iso = (date: Date) => date.toISOString();
const plusSeconds = (date: Date | string, seconds: number) =>
  new Date(new Date(date).getTime() + seconds * 1000);
const epochSeconds = (date: Date | string) => Math.ceil(new Date(date).getTime() / 1000);
// ISO strings of one format compare in time order.
const laterOf = (a: string, b: string) => (a > b ? a : b);
const earlierOf = (a: string, b: string) => (a < b ? a : b);

export function poolIdOf(tenantId: string, dbUser: string): string {
  return `${tenantId}#${dbUser}`;
}

export class SessionStore {
  constructor(
    protected readonly ddb: DynamoDBDocumentClient,
    protected readonly tableName: string,
    private readonly policy: SessionPolicy,
    protected readonly clock: () => Date = () => new Date(),
    private readonly sleep: (ms: number) => Promise<void> = (ms) =>
      new Promise((resolve) => setTimeout(resolve, ms)),
  ) {}

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
   * Expired records met on the way are deleted.
   *
   * When every session is leased, it waits up to `acquireWaitMs` for one to be given back before
   * it reports a miss: a short query's lease comes back within tens of milliseconds, while opening
   * a session costs a connection and authentication and leaves the pool one session larger for
   * good. A pool with no session at all is opened by one execution at a time: the first to find it
   * empty claims the opening ({@link OpeningClaim}) and misses at once; the others wait for that
   * session, as they would for a leased one. Whoever waits in vain still misses, never fails.
   *
   * Retry-safe: if `owner` already holds a lease in the pool (a retried invocation), that session
   * is returned again instead of leasing a second one; a claim it holds is its own again.
   * `options.waitMs` overrides the policy's wait (0: take an idle session or miss at once).
   * `options.lifeNeededSeconds` passes over the sessions the Data API would close sooner (it closes
   * every session 24 hours after opening it): a query that may run for hours gets a session that
   * lasts as long, or a new one, or, when the pool is full and such sessions are idle in it, none
   * (a miss with `sessionless`) rather than failing.
   *
   * @throws {SessionPoolExhaustedError} when every session is still leased after the wait and the
   * pool is at its cap.
   */
  async acquire(
    tenantId: string,
    dbUser: string,
    owner: string,
    options: { waitMs?: number; lifeNeededSeconds?: number } = {},
  ): Promise<AcquireResult> {
    const waitMs = options.waitMs ?? this.policy.acquireWaitMs ?? 0;
    let waitedMs = 0;
    let expiredRemoved = 0;
    let claimTried = false;
    for (;;) {
      const now = this.clock();
      const pool = await this.listPool(tenantId, dbUser);

      const alreadyMine = pool.find((r) => r.state === 'LEASED' && r.lease_owner === owner);
      if (alreadyMine) return this.keepUnlessStopped(alreadyMine, owner, expiredRemoved, waitedMs);

      const expired = pool.filter((r) => !this.isLeaseLive(r, now) && this.isExpired(r, now));
      for (const record of expired) {
        if (await this.deleteIfUnchanged(record, now)) expiredRemoved++;
      }

      const lifeNeeded = options.lifeNeededSeconds ?? 0;
      const candidates = pool
        .filter(
          (r) =>
            !this.isLeaseLive(r, now) &&
            !this.isExpired(r, now) &&
            !this.closesWithin(r, now, lifeNeeded),
        )
        .sort((a, b) => (a.last_used_at < b.last_used_at ? 1 : -1));
      for (const candidate of candidates) {
        const leased = await this.tryLease(candidate, owner, now);
        if (leased) return this.keepUnlessStopped(leased, owner, expiredRemoved, waitedMs);
      }

      // Sessions still open: leased ones, and idle ones that a racing execution just took from us.
      const held = pool.length - expired.length;
      if (held === 0 && waitMs > 0 && !claimTried) {
        claimTried = true;
        if (await this.claimOpening(tenantId, dbUser, owner, now)) {
          // As with a lease: a stopped execution's cleanup may have read before this claim existed.
          if (!(await this.isStopped(owner))) return { kind: 'miss', expiredRemoved, waitedMs };
          await this.dropOpeningClaim(tenantId, dbUser, owner);
          return { kind: 'miss', expiredRemoved, waitedMs, ownerStopped: true };
        }
      }
      // Something to wait for: a leased session, or the first session that another execution
      // claimed to open; not one that would close before this query may end.
      const tooShortLived = pool.filter(
        (r) => !this.isExpired(r, now) && this.closesWithin(r, now, lifeNeeded),
      );
      const worthWaiting = held > tooShortLived.length || claimTried;
      if (worthWaiting && waitedMs < waitMs) {
        const pause = Math.min(acquirePollDelayMs(waitedMs, waitMs), waitMs - waitedMs);
        await this.sleep(pause);
        waitedMs += pause;
        continue;
      }

      if (held >= this.policy.maxSessionsPerTenant) {
        const idleButShortLived = tooShortLived.some((r) => !this.isLeaseLive(r, now));
        if (idleButShortLived) return { kind: 'miss', expiredRemoved, waitedMs, sessionless: true };
        throw new SessionPoolExhaustedError(
          `Tenant ${tenantId} holds ${held} sessions, all leased${waitMs > 0 ? ` for the ${waitMs} ms it waited` : ''}; the cap is ${this.policy.maxSessionsPerTenant} (SPECTRA_MAX_SESSIONS_PER_TENANT)`,
        );
      }
      return { kind: 'miss', expiredRemoved, waitedMs };
    }
  }

  /**
   * Claims the opening of the pool's first session for `owner`: a conditional put that one
   * execution wins while the claim lives. False when another execution holds it.
   */
  private async claimOpening(
    tenantId: string,
    dbUser: string,
    owner: string,
    now: Date,
  ): Promise<boolean> {
    const expiresAt = plusSeconds(now, OPENING_CLAIM_SECONDS);
    const claim: OpeningClaim = {
      ...openingClaimKey(tenantId, dbUser),
      owner,
      created_at: iso(now),
      expires_at: iso(expiresAt),
      ttl: epochSeconds(expiresAt),
    };
    try {
      await this.ddb.send(
        new PutCommand({
          TableName: this.tableName,
          Item: claim,
          ConditionExpression:
            'attribute_not_exists(pool_id) OR expires_at <= :now OR #owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':now': iso(now), ':owner': owner },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      return rethrowTransient(error, 'DynamoDB PutItem (opening claim)');
    }
  }

  /**
   * Deletes `owner`'s claim to open the pool's first session, once the session is recorded or
   * could not be opened. False when `owner` held none. Never throws: a claim left behind runs out
   * by itself, and until then only makes acquirers wait, so failing the query over it would be
   * the worse outcome.
   */
  async dropOpeningClaim(tenantId: string, dbUser: string, owner: string): Promise<boolean> {
    try {
      await this.ddb.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: openingClaimKey(tenantId, dbUser),
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':owner': owner },
        }),
      );
      return true;
    } catch {
      return false;
    }
  }

  /**
   * A lease just taken is kept unless its owner was stopped meanwhile: then it is given back, as
   * the stopped execution's cleanup would have done had the lease existed when it read the pool.
   */
  private async keepUnlessStopped(
    session: SessionRecord,
    owner: string,
    expiredRemoved: number,
    waitedMs: number,
  ): Promise<AcquireResult> {
    if (!(await this.isStopped(owner))) return { kind: 'hit', session, expiredRemoved, waitedMs };
    await this.unlease(session, owner);
    return { kind: 'miss', expiredRemoved, waitedMs, ownerStopped: true };
  }

  private async tryLease(
    record: SessionRecord,
    owner: string,
    now: Date,
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
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      return rethrowTransient(error, 'DynamoDB DeleteItem (expired session)');
    }
  }

  /**
   * Records a session the Data API just opened for `owner`, already leased to it. Idempotent for
   * the same owner, so a retried SubmitQuery that got the same session back writes it again.
   */
  async recordNewSession(
    tenantId: string,
    dbUser: string,
    sessionId: string,
    owner: string,
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
        UpdateExpression:
          'SET #state = :idle, last_used_at = :endedAt, expires_at = :expiresAt, #ttl = :ttl REMOVE lease_owner, lease_expires_at',
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
   * Marks an execution as stopped, for its steps that are still running.
   *
   * Step Functions does not stop a running Lambda, so a step of a stopped execution can lease a
   * session after the execution's cleanup read the pool, and that lease would be held until it
   * runs out. The mark closes the gap: the cleanup writes it *before* it reads the pool, and a step
   * that leased a session reads it *after* its lease write (both strongly consistent). So either
   * the cleanup's read sees the lease and frees it, or the step's read sees the mark and gives the
   * lease back itself; both may, and each is conditional on the lease still being the owner's.
   */
  async markStopped(executionArn: string): Promise<void> {
    const now = this.clock();
    const expiresAt = plusSeconds(now, STOPPED_MARK_SECONDS);
    const mark: StoppedMark = {
      ...stoppedMarkKey(executionArn),
      execution_arn: executionArn,
      created_at: iso(now),
      expires_at: iso(expiresAt),
      ttl: epochSeconds(expiresAt),
    };
    try {
      await this.ddb.send(new PutCommand({ TableName: this.tableName, Item: mark }));
    } catch (error) {
      rethrowTransient(error, 'DynamoDB PutItem (stopped mark)');
    }
  }

  /** Whether the execution's cleanup has run (see {@link markStopped}); strongly consistent. */
  async isStopped(executionArn: string): Promise<boolean> {
    try {
      const result = await this.ddb.send(
        new GetCommand({
          TableName: this.tableName,
          Key: stoppedMarkKey(executionArn),
          ConsistentRead: true,
        }),
      );
      return result?.Item !== undefined;
    } catch (error) {
      return rethrowTransient(error, 'DynamoDB GetItem (stopped mark)');
    }
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
   * Drops a session from the pool: one the Data API refused, one inside a failed transaction, one
   * whose SQL left state in it, or one a statement may still be running on. This is the one way a
   * session leaves the pool other than by expiry (so that whatever the pool counts per session has
   * one place to be given back). The Data API has no call that closes a session: it stays open
   * until its keep-alive runs out, counting against the Data API's session limit until then.
   * False when the record was already gone, or is leased to another execution.
   */
  async invalidate(
    tenantId: string,
    dbUser: string,
    sessionId: string,
    owner: string,
  ): Promise<boolean> {
    try {
      await this.ddb.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { pool_id: poolIdOf(tenantId, dbUser), session_id: sessionId },
          // Only the lease holder drops it: another execution may have leased it after our lease lapsed.
          ConditionExpression:
            'attribute_exists(session_id) AND (lease_owner = :owner OR #state = :idle)',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':owner': owner, ':idle': 'IDLE' },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      return rethrowTransient(error, 'DynamoDB DeleteItem (invalidate)');
    }
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
