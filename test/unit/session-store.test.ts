import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { TransientServiceError } from '../../functions/common/errors.ts';
import { parseExecutionInput } from '../../functions/common/schemas.ts';
import {
  INTERNAL_KEY_PREFIXES,
  isInternalItem,
  poolIdOf,
  type SessionRecord,
  SessionStore,
} from '../../functions/common/session-store.ts';
import { SessionSweeper } from '../../functions/common/session-sweeper.ts';
import { EXECUTION_ARN, NOW } from '../support/unit-deps.ts';

const ddb = mockClient(DynamoDBDocumentClient);
const policy = { keepAliveSeconds: 3600, idleTimeoutSeconds: 300, maxSessionsPerTenant: 2 };
const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));
const store = new SessionStore(documents, 'sessions', policy, () => NOW);
const sweeper = new SessionSweeper(documents, 'sessions', policy, () => NOW);
const ago = (seconds: number) => new Date(NOW.getTime() - seconds * 1000).toISOString();
const ahead = (seconds: number) => new Date(NOW.getTime() + seconds * 1000).toISOString();

function session(id: string, fields: Partial<SessionRecord> = {}): SessionRecord {
  return {
    pool_id: 'acme#acme',
    session_id: id,
    tenant_id: 'acme',
    db_user: 'acme',
    created_at: ago(600),
    last_used_at: ago(60),
    expires_at: ahead(3540),
    ttl: 0,
    state: 'IDLE',
    ...fields,
  };
}

const conditionFailed = () =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

describe('Class: SessionStore', () => {
  beforeEach(() => {
    ddb.reset();
  });

  describe('Method: acquire', () => {
    it('leases the most recently used idle session with a conditional update', async () => {
      // Prepare
      ddb
        .on(QueryCommand)
        .resolves({ Items: [session('older', { last_used_at: ago(200) }), session('newer')] });
      ddb.on(UpdateCommand).callsFake((input) => ({
        Attributes: { ...session(input.Key.session_id), state: 'LEASED' },
      }));

      // Act
      const result = await store.acquire('acme', 'acme', EXECUTION_ARN);

      // Assess
      expect(result).toEqual(
        expect.objectContaining({
          kind: 'hit',
          session: expect.objectContaining({ session_id: 'newer' }),
        }),
      );
      expect(ddb).toReceiveCommandWith(QueryCommand, {
        ConsistentRead: true,
        ExpressionAttributeValues: { ':pool': 'acme#acme' },
      });
      expect(ddb).toReceiveCommandWith(UpdateCommand, {
        Key: { pool_id: 'acme#acme', session_id: 'newer' },
        ConditionExpression: expect.stringContaining('#state = :idle'),
        ExpressionAttributeValues: expect.objectContaining({
          ':owner': EXECUTION_ARN,
          ':leased': 'LEASED',
        }),
      });
    });

    it('passes over a session the Data API closes, at its 24 hours, before the query may end', async () => {
      // Prepare: opened 20 hours ago, it has 4 hours left; the query may take 6.
      ddb.on(QueryCommand).resolves({
        Items: [
          session('old', { created_at: ago(20 * 3600) }),
          session('young', { last_used_at: ago(200) }),
        ],
      });
      ddb.on(UpdateCommand).callsFake((input) => ({
        Attributes: { ...session(input.Key.session_id), state: 'LEASED' },
      }));

      // Act
      const long = await store.acquire('acme', 'acme', EXECUTION_ARN, {
        lifeNeededSeconds: 6 * 3600,
      });

      // Assess: the young one, though the old one was used last; a short query may have the old one
      expect(long).toEqual(
        expect.objectContaining({
          kind: 'hit',
          session: expect.objectContaining({ session_id: 'young' }),
        }),
      );
      const short = await store.acquire('acme', 'acme', EXECUTION_ARN, { lifeNeededSeconds: 60 });
      expect(short).toEqual(
        expect.objectContaining({ session: expect.objectContaining({ session_id: 'old' }) }),
      );
    });

    it('reports a sessionless miss, not an exhausted pool, when the full pool holds only sessions that close too soon', async () => {
      // Prepare: the cap is 2; both sessions are idle but 20 hours old
      ddb.on(QueryCommand).resolves({
        Items: [
          session('a', { created_at: ago(20 * 3600) }),
          session('b', { created_at: ago(20 * 3600) }),
        ],
      });

      // Act
      const result = await store.acquire('acme', 'acme', EXECUTION_ARN, {
        waitMs: 0,
        lifeNeededSeconds: 6 * 3600,
      });

      // Assess
      expect(result).toEqual(expect.objectContaining({ kind: 'miss', sessionless: true }));
      expect(ddb).not.toReceiveCommand(UpdateCommand);
    });

    it('reports a miss when the pool is empty', async () => {
      ddb.on(QueryCommand).resolves({ Items: [] });

      await expect(store.acquire('acme', 'acme', EXECUTION_ARN)).resolves.toEqual({
        kind: 'miss',
        expiredRemoved: 0,
        waitedMs: 0,
      });
      expect(ddb).not.toReceiveCommand(UpdateCommand);
    });

    it('skips and deletes a session whose keep-alive runs out within the margin', async () => {
      // Prepare: expires in 10 s, less than the 30 s needed to submit on it
      ddb.on(QueryCommand).resolves({ Items: [session('closing', { expires_at: ahead(10) })] });
      ddb.on(DeleteCommand).resolves({});

      // Act
      const result = await store.acquire('acme', 'acme', EXECUTION_ARN);

      // Assess
      expect(result).toEqual({ kind: 'miss', expiredRemoved: 1, waitedMs: 0 });
      expect(ddb).toReceiveCommandWith(DeleteCommand, {
        Key: { pool_id: 'acme#acme', session_id: 'closing' },
      });
      expect(ddb).not.toReceiveCommand(UpdateCommand);
    });

    it('skips and deletes a session idle for longer than the idle timeout', async () => {
      ddb
        .on(QueryCommand)
        .resolves({ Items: [session('idle-too-long', { last_used_at: ago(301) })] });
      ddb.on(DeleteCommand).resolves({});

      await expect(store.acquire('acme', 'acme', EXECUTION_ARN)).resolves.toEqual({
        kind: 'miss',
        expiredRemoved: 1,
        waitedMs: 0,
      });
      expect(ddb).toReceiveCommandWith(DeleteCommand, {
        Key: { pool_id: 'acme#acme', session_id: 'idle-too-long' },
      });
    });

    it('moves on to the next session when another execution wins the race for the first', async () => {
      // Prepare
      ddb
        .on(QueryCommand)
        .resolves({ Items: [session('contested'), session('free', { last_used_at: ago(120) })] });
      ddb
        .on(UpdateCommand, { Key: { pool_id: 'acme#acme', session_id: 'contested' } })
        .rejects(conditionFailed());
      ddb
        .on(UpdateCommand, { Key: { pool_id: 'acme#acme', session_id: 'free' } })
        .resolves({ Attributes: session('free', { state: 'LEASED' }) });

      // Act
      const result = await store.acquire('acme', 'acme', EXECUTION_ARN);

      // Assess
      expect(result).toEqual(
        expect.objectContaining({
          kind: 'hit',
          session: expect.objectContaining({ session_id: 'free' }),
        }),
      );
      expect(ddb).toReceiveCommandTimes(UpdateCommand, 2);
    });

    it('throws SessionPoolExhaustedError when every session is leased and the pool is at its cap', async () => {
      const leased = {
        state: 'LEASED' as const,
        lease_owner: 'other',
        lease_expires_at: ahead(200),
      };
      ddb.on(QueryCommand).resolves({ Items: [session('a', leased), session('b', leased)] });

      await expect(store.acquire('acme', 'acme', EXECUTION_ARN)).rejects.toThrow(
        expect.objectContaining({
          name: 'SessionPoolExhaustedError',
          message: expect.stringContaining('the cap is 2'),
        }),
      );
    });

    it('reports a miss when the leased sessions are below the cap', async () => {
      ddb.on(QueryCommand).resolves({
        Items: [
          session('a', { state: 'LEASED', lease_owner: 'other', lease_expires_at: ahead(200) }),
        ],
      });

      await expect(store.acquire('acme', 'acme', EXECUTION_ARN)).resolves.toEqual({
        kind: 'miss',
        expiredRemoved: 0,
        waitedMs: 0,
      });
    });

    it('takes over a session whose lease ran out without renewal', async () => {
      ddb.on(QueryCommand).resolves({
        Items: [
          session('abandoned', {
            state: 'LEASED',
            lease_owner: 'gone',
            lease_expires_at: ago(5),
          }),
        ],
      });
      ddb.on(UpdateCommand).resolves({
        Attributes: session('abandoned', { state: 'LEASED', lease_owner: EXECUTION_ARN }),
      });

      const result = await store.acquire('acme', 'acme', EXECUTION_ARN);

      expect(result.kind).toBe('hit');
      expect(ddb).toReceiveCommandWith(UpdateCommand, {
        ConditionExpression: expect.stringContaining('lease_expires_at < :now'),
      });
    });

    it('returns the session it already leased to the same execution, for a retried invocation', async () => {
      ddb.on(QueryCommand).resolves({
        Items: [
          session('mine', {
            state: 'LEASED',
            lease_owner: EXECUTION_ARN,
            lease_expires_at: ahead(250),
          }),
        ],
      });

      const result = await store.acquire('acme', 'acme', EXECUTION_ARN);

      expect(result).toEqual(
        expect.objectContaining({
          kind: 'hit',
          session: expect.objectContaining({ session_id: 'mine' }),
        }),
      );
      expect(ddb).not.toReceiveCommand(UpdateCommand);
    });

    it('gives the lease back when its execution was stopped meanwhile, and reports a miss', async () => {
      // Prepare: the execution's cleanup marked it stopped before this lease was written
      ddb.on(QueryCommand).resolves({ Items: [session('free')] });
      ddb.on(UpdateCommand).callsFake((input) => ({
        Attributes: {
          ...session(input.Key.session_id),
          state: 'LEASED',
          lease_owner: EXECUTION_ARN,
        },
      }));
      ddb.on(GetCommand).resolves({ Item: { pool_id: `#stopped#${EXECUTION_ARN}` } });

      // Act
      const result = await store.acquire('acme', 'acme', EXECUTION_ARN);

      // Assess
      expect(result).toEqual({ kind: 'miss', expiredRemoved: 0, waitedMs: 0, ownerStopped: true });
      expect(ddb).toReceiveCommandWith(GetCommand, {
        Key: { pool_id: `#stopped#${EXECUTION_ARN}`, session_id: 'stopped' },
        ConsistentRead: true,
      });
      expect(ddb).toReceiveCommandTimes(UpdateCommand, 2);
      expect(ddb).toReceiveNthCommandWith(UpdateCommand, 2, {
        Key: { pool_id: 'acme#acme', session_id: 'free' },
        ConditionExpression: '#state = :leased AND lease_owner = :owner',
        UpdateExpression: 'SET #state = :idle REMOVE lease_owner, lease_expires_at',
      });
    });

    it('keeps the lease when its execution has not been stopped', async () => {
      ddb.on(QueryCommand).resolves({ Items: [session('free')] });
      ddb.on(UpdateCommand).callsFake((input) => ({
        Attributes: { ...session(input.Key.session_id), state: 'LEASED' },
      }));
      ddb.on(GetCommand).resolves({});

      const result = await store.acquire('acme', 'acme', EXECUTION_ARN);

      expect(result.kind).toBe('hit');
      expect(ddb).toReceiveCommandTimes(UpdateCommand, 1);
    });

    it('throws TransientServiceError when DynamoDB keeps throttling', async () => {
      const throttled = Object.assign(new Error('Rate exceeded'), {
        name: 'ProvisionedThroughputExceededException',
      });
      ddb.on(QueryCommand).rejects(throttled);

      await expect(store.acquire('acme', 'acme', EXECUTION_ARN)).rejects.toBeInstanceOf(
        TransientServiceError,
      );
    });
  });

  describe('Method: acquire, with a wait for a leased session', () => {
    /** A store that waits up to 100 ms; its pauses are recorded, not slept. */
    function waitingStore() {
      const pauses: number[] = [];
      const waiting = new SessionStore(
        DynamoDBDocumentClient.from(new DynamoDBClient({})),
        'sessions',
        { ...policy, acquireWaitMs: 100 },
        () => NOW,
        async (ms) => {
          pauses.push(ms);
        },
      );
      return { waiting, pauses };
    }
    const leasedTo = (owner: string) => ({
      state: 'LEASED' as const,
      lease_owner: owner,
      lease_expires_at: ahead(200),
    });

    it.each([
      {
        case: 'a leased session another execution gives back',
        reads: [[session('next', leasedTo('other'))], [session('next')]],
        pauses: [50],
      },
      {
        case: 'the first session, which another execution claimed to open',
        reads: [[], [session('next', leasedTo('claimant'))], [session('next')]],
        pauses: [50, 25],
      },
    ])('waits for $case, then leases it', async ({ reads, pauses: expectedPauses }) => {
      // Prepare: the pool as each read finds it; the claim is someone else's
      const { waiting, pauses } = waitingStore();
      const queries = ddb.on(QueryCommand);
      for (const items of reads) queries.resolvesOnce({ Items: items });
      ddb.on(PutCommand).rejects(conditionFailed());
      ddb.on(UpdateCommand).callsFake((input) => ({
        Attributes: { ...session(input.Key.session_id), ...leasedTo(EXECUTION_ARN) },
      }));

      // Act
      const result = await waiting.acquire('acme', 'acme', EXECUTION_ARN);

      // Assess
      const waited = expectedPauses.reduce((sum, pause) => sum + pause, 0);
      expect(result).toEqual(
        expect.objectContaining({
          kind: 'hit',
          session: expect.objectContaining({ session_id: 'next' }),
          waitedMs: waited,
        }),
      );
      expect(pauses).toEqual(expectedPauses);
      expect(ddb).toReceiveCommandTimes(QueryCommand, reads.length);
    });

    it('reports a miss once the whole wait passed with every session still leased', async () => {
      const { waiting, pauses } = waitingStore();
      ddb.on(QueryCommand).resolves({ Items: [session('busy', leasedTo('other'))] });

      const result = await waiting.acquire('acme', 'acme', EXECUTION_ARN);

      expect(result).toEqual({ kind: 'miss', expiredRemoved: 0, waitedMs: 100 });
      // Shorter pauses the longer it waited (so the oldest waiter reads most often), the last one
      // cut to the time left.
      expect(pauses).toEqual([50, 25, 13, 10, 2]);
      expect(ddb).toReceiveCommandTimes(QueryCommand, 6);
      expect(ddb).not.toReceiveCommand(PutCommand);
    });

    it('fails at the cap only after the wait', async () => {
      const { waiting, pauses } = waitingStore();
      ddb.on(QueryCommand).resolves({
        Items: [session('a', leasedTo('other-1')), session('b', leasedTo('other-2'))],
      });

      await expect(waiting.acquire('acme', 'acme', EXECUTION_ARN)).rejects.toThrow(
        expect.objectContaining({
          name: 'SessionPoolExhaustedError',
          message: expect.stringContaining('all leased for the 100 ms it waited; the cap is 2'),
        }),
      );
      expect(pauses.reduce((sum, pause) => sum + pause, 0)).toBe(100);
    });

    it("claims the opening of an empty pool's first session and misses at once", async () => {
      const { waiting, pauses } = waitingStore();
      ddb.on(QueryCommand).resolves({ Items: [] });
      ddb.on(PutCommand).resolves({});

      const result = await waiting.acquire('acme', 'acme', EXECUTION_ARN);

      expect(result).toEqual({ kind: 'miss', expiredRemoved: 0, waitedMs: 0 });
      expect(pauses).toEqual([]);
      expect(ddb).toReceiveCommandWith(PutCommand, {
        Item: expect.objectContaining({
          pool_id: '#opening#acme#acme',
          session_id: 'opening',
          owner: EXECUTION_ARN,
          expires_at: ahead(60),
        }),
        // Won by one execution while the claim lives; its own claim again on a retry.
        ConditionExpression:
          'attribute_not_exists(pool_id) OR expires_at <= :now OR #owner = :owner',
      });
    });

    it('drops its claim at once when its execution was stopped meanwhile', async () => {
      const { waiting } = waitingStore();
      ddb.on(QueryCommand).resolves({ Items: [] });
      ddb.on(PutCommand).resolves({});
      ddb.on(GetCommand).resolves({ Item: { pool_id: `#stopped#${EXECUTION_ARN}` } });
      ddb.on(DeleteCommand).resolves({});

      await expect(waiting.acquire('acme', 'acme', EXECUTION_ARN)).resolves.toEqual({
        kind: 'miss',
        expiredRemoved: 0,
        waitedMs: 0,
        ownerStopped: true,
      });
      expect(ddb).toReceiveCommandWith(DeleteCommand, {
        Key: { pool_id: '#opening#acme#acme', session_id: 'opening' },
        ExpressionAttributeValues: { ':owner': EXECUTION_ARN },
      });
    });

    it('misses after the wait when the claimed session never appears', async () => {
      const { waiting } = waitingStore();
      ddb.on(QueryCommand).resolves({ Items: [] });
      ddb.on(PutCommand).rejects(conditionFailed());

      await expect(waiting.acquire('acme', 'acme', EXECUTION_ARN)).resolves.toEqual({
        kind: 'miss',
        expiredRemoved: 0,
        waitedMs: 100,
      });
      expect(ddb).toReceiveCommandTimes(PutCommand, 1);
    });
  });

  describe('Method: dropOpeningClaim', () => {
    it("deletes only the caller's own claim", async () => {
      ddb.on(DeleteCommand).resolves({});

      await expect(store.dropOpeningClaim('acme', 'acme', EXECUTION_ARN)).resolves.toBe(true);

      expect(ddb).toReceiveCommandWith(DeleteCommand, {
        Key: { pool_id: '#opening#acme#acme', session_id: 'opening' },
        ConditionExpression: '#owner = :owner',
        ExpressionAttributeValues: { ':owner': EXECUTION_ARN },
      });
    });

    it('never throws: a claim left behind runs out by itself', async () => {
      ddb.on(DeleteCommand).rejects(new Error('Internal server error'));

      await expect(store.dropOpeningClaim('acme', 'acme', EXECUTION_ARN)).resolves.toBe(false);
    });
  });

  describe('Method: release', () => {
    it("returns the session to IDLE with the keep-alive counted from the statement's end", async () => {
      ddb.on(UpdateCommand).resolves({});
      const endedAt = ago(2);

      const released = await store.release(
        { tenantId: 'acme', dbUser: 'acme', sessionId: 's1', createdAt: ago(600) },
        EXECUTION_ARN,
        endedAt,
      );

      expect(released).toBe(true);
      expect(ddb).toReceiveCommandWith(UpdateCommand, {
        ConditionExpression: '#state = :leased AND lease_owner = :owner',
        ExpressionAttributeValues: expect.objectContaining({
          ':idle': 'IDLE',
          ':endedAt': endedAt,
          ':expiresAt': new Date(new Date(endedAt).getTime() + 3600_000).toISOString(),
        }),
      });
    });

    it("never sets the expiry past 24 hours from the session's creation", async () => {
      ddb.on(UpdateCommand).resolves({});
      const createdAt = ago(23.5 * 3600);

      await store.release(
        { tenantId: 'acme', dbUser: 'acme', sessionId: 's1', createdAt },
        EXECUTION_ARN,
      );

      expect(ddb).toReceiveCommandWith(UpdateCommand, {
        ExpressionAttributeValues: expect.objectContaining({ ':expiresAt': ahead(1800) }),
      });
    });

    it("does nothing when the lease is no longer this execution's", async () => {
      ddb.on(UpdateCommand).rejects(conditionFailed());

      await expect(
        store.release(
          { tenantId: 'acme', dbUser: 'acme', sessionId: 's1', createdAt: ago(60) },
          EXECUTION_ARN,
        ),
      ).resolves.toBe(false);
    });
  });

  describe('Method: recordNewSession', () => {
    it('writes the new session leased to its execution, conditionally', async () => {
      ddb.on(PutCommand).resolves({});

      const record = await store.recordNewSession('acme', 'acme', 's-new', EXECUTION_ARN);

      expect(record).toEqual(
        expect.objectContaining({
          state: 'LEASED',
          lease_owner: EXECUTION_ARN,
          created_at: NOW.toISOString(),
          expires_at: ahead(3600),
        }),
      );
      expect(ddb).toReceiveCommandWith(PutCommand, {
        ConditionExpression: 'attribute_not_exists(session_id) OR lease_owner = :owner',
      });
    });
  });

  describe('Method: renewLease', () => {
    it('extends the lease only while this execution holds it', async () => {
      ddb.on(UpdateCommand).resolvesOnce({}).rejectsOnce(conditionFailed());

      await expect(store.renewLease('acme', 'acme', 's1', EXECUTION_ARN)).resolves.toBe(true);
      await expect(store.renewLease('acme', 'acme', 's1', EXECUTION_ARN)).resolves.toBe(false);
      expect(ddb).toReceiveCommandWith(UpdateCommand, {
        ExpressionAttributeValues: expect.objectContaining({ ':leaseExpires': ahead(300) }),
      });
    });
  });

  describe('Method: cleanupExpiredSessions', () => {
    it('deletes the expired, unleased records and returns how many', async () => {
      ddb.on(ScanCommand).resolves({
        Items: [
          session('fresh'),
          session('expired', { expires_at: ago(1) }),
          session('idle', { last_used_at: ago(1000) }),
          session('running', {
            expires_at: ago(1),
            state: 'LEASED',
            lease_owner: 'x',
            lease_expires_at: ahead(100),
          }),
        ],
      });
      ddb.on(DeleteCommand).resolves({});

      await expect(sweeper.cleanupExpiredSessions()).resolves.toBe(2);
      expect(ddb).toReceiveCommandTimes(DeleteCommand, 2);
    });

    it('deletes the marks of stopped executions past their time, and keeps the others', async () => {
      const mark = (arn: string, expiresAt: string) => ({
        pool_id: `#stopped#${arn}`,
        session_id: 'stopped',
        execution_arn: arn,
        created_at: ago(3600),
        expires_at: expiresAt,
        ttl: 0,
      });
      ddb.on(ScanCommand).resolves({
        Items: [mark(`${EXECUTION_ARN}-old`, ago(1)), mark(`${EXECUTION_ARN}-new`, ahead(60))],
      });
      ddb.on(DeleteCommand).resolves({});

      await expect(sweeper.cleanupExpiredSessions()).resolves.toBe(1);
      expect(ddb).toReceiveCommandWith(DeleteCommand, {
        Key: { pool_id: `#stopped#${EXECUTION_ARN}-old`, session_id: 'stopped' },
      });
      expect(ddb).toReceiveCommandTimes(DeleteCommand, 1);
    });

    it('deletes opening claims past their time, as they were read', async () => {
      const claim = (pool: string, expiresAt: string) => ({
        pool_id: `#opening#${pool}`,
        session_id: 'opening',
        owner: EXECUTION_ARN,
        created_at: ago(60),
        expires_at: expiresAt,
        ttl: 0,
      });
      ddb.on(ScanCommand).resolves({
        Items: [claim('acme#acme', ago(1)), claim('globex#globex', ahead(30))],
      });
      ddb.on(DeleteCommand).resolves({});

      await expect(sweeper.cleanupExpiredSessions()).resolves.toBe(1);
      expect(ddb).toReceiveCommandWith(DeleteCommand, {
        Key: { pool_id: '#opening#acme#acme', session_id: 'opening' },
        ConditionExpression: 'expires_at = :seenExpires',
        ExpressionAttributeValues: { ':seenExpires': ago(1) },
      });
      expect(ddb).toReceiveCommandTimes(DeleteCommand, 1);
    });
  });

  describe('Internal items', () => {
    it.each([...INTERNAL_KEY_PREFIXES])(
      'keeps the prefix %s out of reach of every tenant id',
      (prefix) => {
        // The prefix itself is no tenant id; the word in it is one, and its pool is not internal.
        const word = prefix.replaceAll('#', '');
        expect(() => parseExecutionInput({ tenantId: prefix, sql: 'select 1' })).toThrow(
          /tenantId must be 1-63 characters of lowercase letters, digits and "-", starting with a letter/,
        );
        expect(parseExecutionInput({ tenantId: word, sql: 'select 1' }).tenantId).toBe(word);
        expect(isInternalItem({ pool_id: poolIdOf(word, `tenant_${word}`) })).toBe(false);
        expect(poolIdOf(word, `tenant_${word}`).startsWith(prefix)).toBe(false);
      },
    );

    it.each([...INTERNAL_KEY_PREFIXES])(
      'sweeps nothing of a live lease of the tenant named after %s',
      async (prefix) => {
        // A long statement: its session's keep-alive has passed, its lease is renewed and live.
        const word = prefix.replaceAll('#', '');
        ddb.on(ScanCommand).resolves({
          Items: [
            session('running', {
              pool_id: poolIdOf(word, `tenant_${word}`),
              tenant_id: word,
              db_user: `tenant_${word}`,
              expires_at: ago(1),
              state: 'LEASED',
              lease_owner: EXECUTION_ARN,
              lease_expires_at: ahead(100),
            }),
          ],
        });
        ddb.on(DeleteCommand).resolves({});

        await expect(sweeper.cleanupExpiredSessions()).resolves.toBe(0);
        expect(ddb).toReceiveCommandTimes(DeleteCommand, 0);
      },
    );
  });

  describe('Method: markStopped', () => {
    it("writes the execution's mark in a partition of its own, for an hour", async () => {
      ddb.on(PutCommand).resolves({});

      await store.markStopped(EXECUTION_ARN);

      expect(ddb).toReceiveCommandWith(PutCommand, {
        Item: expect.objectContaining({
          pool_id: `#stopped#${EXECUTION_ARN}`,
          session_id: 'stopped',
          expires_at: ahead(3600),
        }),
      });
    });
  });
});
