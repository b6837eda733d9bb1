import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { IdleSession, OpenedSession, PooledSession } from './session-pool.ts';
import {
  earlierOf,
  epochSeconds,
  iso,
  LEASE_SECONDS,
  laterOf,
  plusSeconds,
  type SessionRecord,
} from './session-record.ts';
import { SessionsTable, type TableWrite } from './table-io.ts';
import { MAX_SESSION_AGE_SECONDS, poolIdOf } from './table-keys.ts';

/**
 * The writes on one session item of a tenant's pool, each a single conditional write: a session
 * is handed to one execution at a time through a lease, a conditional update from IDLE to LEASED
 * that only one writer can win. A tenant's pool is one partition, read with one strongly
 * consistent Query. Only single-item conditional writes are used: no transactions. What these
 * writes mean for the slots and the execution records is the pool's ({@link SessionStore}).
 */

/** A session no live lease holds: idle, or leased by an execution that stopped renewing. */
const LEASE_FREE = '(#state = :idle OR lease_expires_at < :now)';
/** The lease is still `owner`'s. */
const LEASED_TO_OWNER = '#state = :leased AND lease_owner = :owner';

type UpdateInput = Extract<TableWrite, { Update: unknown }>['Update'];

export class SessionLeases {
  protected readonly table: SessionsTable;

  constructor(
    protected readonly ddb: DynamoDBDocumentClient,
    tableName: string,
    protected readonly keepAliveSeconds: number,
    protected readonly clock: () => Date = () => new Date(),
  ) {
    this.table = new SessionsTable(ddb, tableName);
  }

  /** Every session of one tenant and db user, strongly consistent. */
  async listPool(tenantId: string, dbUser: string): Promise<SessionRecord[]> {
    return this.table.query<SessionRecord>(
      { placeholder: ':pool', value: poolIdOf(tenantId, dbUser) },
      'DynamoDB Query',
    );
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
    const result = await this.table.write(
      {
        Update: {
          Key: { pool_id: record.pool_id, session_id: record.session_id },
          // Not refreshed since it was read, either.
          ConditionExpression: `attribute_exists(session_id) AND ${LEASE_FREE} AND last_used_at = :seenLastUsed`,
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
        },
      },
      'DynamoDB UpdateItem (lease)',
    );
    return result?.Attributes as SessionRecord | undefined;
  }

  /** Deletes an expired record as it was read; false when it changed meanwhile. */
  protected async deleteIfUnchanged(record: SessionRecord, now: Date): Promise<boolean> {
    const deleted = await this.table.write(
      {
        Delete: {
          Key: { pool_id: record.pool_id, session_id: record.session_id },
          ConditionExpression: `last_used_at = :seenLastUsed AND ${LEASE_FREE}`,
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: {
            ':seenLastUsed': record.last_used_at,
            ':idle': 'IDLE',
            ':now': iso(now),
          },
        },
      },
      'DynamoDB DeleteItem (expired session)',
    );
    return deleted !== undefined;
  }

  /**
   * Records a session the Data API just opened for `owner` on `reservation`'s slots, already
   * leased to it. Idempotent for the same owner, so a retried SubmitQuery that got the same session
   * back writes it again. `warmupStatementId`: the session was opened by a `select 1` that may
   * still be running (see {@link SessionRecord.warmup_statement_id}).
   */
  async recordNewSession(opened: OpenedSession): Promise<SessionRecord> {
    const { sessionId, owner } = opened;
    const now = this.clock();
    const leaseExpiresAt = iso(plusSeconds(now, LEASE_SECONDS));
    const opening = this.openedRecord(opened, now);
    const record: SessionRecord = {
      ...opening,
      ttl: epochSeconds(laterOf(opening.expires_at, leaseExpiresAt)),
      state: 'LEASED',
      lease_owner: owner,
      lease_expires_at: leaseExpiresAt,
    };
    const put = await this.table.write(
      {
        Put: {
          Item: record,
          ConditionExpression: 'attribute_not_exists(session_id) OR lease_owner = :owner',
          ExpressionAttributeValues: { ':owner': owner },
        },
      },
      'DynamoDB PutItem (new session)',
    );
    // The Data API never hands one session id to two statements that did not share a token.
    if (put === undefined)
      throw new Error(`Session ${sessionId} is already recorded for another execution`);
    return record;
  }

  /**
   * Records a spare session the Data API just opened on `reservation`'s slots, idle in the pool
   * for the next query of the tenant, its opening `select 1` named by `warmupStatementId`.
   * Undefined when the session is recorded already (the write then leaves it as it is).
   */
  async recordIdleSession(opened: IdleSession): Promise<SessionRecord | undefined> {
    const record: SessionRecord = { ...this.openedRecord(opened, this.clock()), state: 'IDLE' };
    const put = await this.table.write(
      { Put: { Item: record, ConditionExpression: 'attribute_not_exists(session_id)' } },
      'DynamoDB PutItem (spare session)',
    );
    return put === undefined ? undefined : record;
  }

  /** The record of a session opened just now on `opened.reservation`'s slots, not yet leased. */
  private openedRecord(opened: IdleSession, now: Date): Omit<SessionRecord, 'state'> {
    const { tenantId, dbUser, sessionId, reservation, warmupStatementId } = opened;
    // Provisional: the keep-alive really counts from the end of the statement now running, which
    // release() records; until then this is the earliest the session can close.
    const expiresAt = iso(plusSeconds(now, this.keepAliveSeconds));
    return {
      pool_id: poolIdOf(tenantId, dbUser),
      session_id: sessionId,
      tenant_id: tenantId,
      db_user: dbUser,
      created_at: iso(now),
      last_used_at: iso(now),
      expires_at: expiresAt,
      ttl: epochSeconds(expiresAt),
      slot: reservation.slot,
      total_slot: reservation.totalSlot,
      slot_claim: reservation.claim,
      ...(warmupStatementId === undefined ? {} : { warmup_statement_id: warmupStatementId }),
    };
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
    return this.updateLease(
      {
        Key: { pool_id: poolIdOf(tenantId, dbUser), session_id: sessionId },
        ConditionExpression: LEASED_TO_OWNER,
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
    session: PooledSession,
    owner: string,
    statementEndedAt?: string,
  ): Promise<boolean> {
    const now = this.clock();
    const endedAt = statementEndedAt && statementEndedAt < iso(now) ? statementEndedAt : iso(now);
    const byKeepAlive = iso(plusSeconds(endedAt, this.keepAliveSeconds));
    const byAge = iso(plusSeconds(session.createdAt, MAX_SESSION_AGE_SECONDS));
    const expiresAt = earlierOf(byKeepAlive, byAge);
    return this.updateLease(
      {
        Key: { pool_id: poolIdOf(session.tenantId, session.dbUser), session_id: session.sessionId },
        ConditionExpression: LEASED_TO_OWNER,
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
    return this.updateLease(
      {
        Key: { pool_id: session.pool_id, session_id: session.session_id },
        ConditionExpression: LEASED_TO_OWNER,
        UpdateExpression: 'SET #state = :idle REMOVE lease_owner, lease_expires_at',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':leased': 'LEASED', ':idle': 'IDLE', ':owner': owner },
      },
      'DynamoDB UpdateItem (unlease)',
    );
  }

  /**
   * Deletes `owner`'s (or an idle) session item; the record as it was, or undefined when it was
   * gone or leased to another execution.
   */
  protected async deleteSession(
    tenantId: string,
    dbUser: string,
    sessionId: string,
    owner: string,
  ): Promise<SessionRecord | undefined> {
    const result = await this.table.write(
      {
        Delete: {
          Key: { pool_id: poolIdOf(tenantId, dbUser), session_id: sessionId },
          // Only the lease holder drops it: another execution may have leased it after our lease lapsed.
          ConditionExpression:
            'attribute_exists(session_id) AND (lease_owner = :owner OR #state = :idle)',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':owner': owner, ':idle': 'IDLE' },
          ReturnValues: 'ALL_OLD',
        },
      },
      'DynamoDB DeleteItem (invalidate)',
    );
    return result?.Attributes as SessionRecord | undefined;
  }

  private async updateLease(input: UpdateInput, operation: string): Promise<boolean> {
    return (await this.table.write({ Update: input }, operation)) !== undefined;
  }
}
