import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { TransientServiceError } from '../../functions/common/errors.ts';
import { parseExecutionInput } from '../../functions/common/execution-input.ts';
import type { SessionRecord } from '../../functions/common/session-record.ts';
import { SessionStore } from '../../functions/common/session-store.ts';
import { SessionSweeper } from '../../functions/common/session-sweeper.ts';
import {
  INTERNAL_KEY_PREFIXES,
  isInternalItem,
  poolIdOf,
} from '../../functions/common/table-keys.ts';
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

  /** The pool's reads answer `items`; every other partition (the slots) is empty. */
  function poolHolds(...items: SessionRecord[]) {
    ddb.on(QueryCommand).resolves({ Items: [] });
    ddb
      .on(QueryCommand, { ExpressionAttributeValues: { ':pool': 'acme#acme' } })
      .resolves({ Items: items });
  }
  /** The tenant's slot items, as a read of its slots answers them. */
  function tenantSlotsHold(...slots: { session_id: string; claim: string; expires_at: string }[]) {
    ddb
      .on(QueryCommand, { ExpressionAttributeValues: { ':partition': '#slot#acme#acme' } })
      .resolves({ Items: slots.map((slot) => ({ pool_id: '#slot#acme#acme', ...slot })) });
  }
  const poolUpdates = () =>
    ddb
      .commandCalls(UpdateCommand)
      .filter((call) => call.args[0].input.Key?.pool_id === 'acme#acme');
  const recordKey = { pool_id: `#execution#${EXECUTION_ARN}`, session_id: 'execution' };
  const leasedTo = (owner: string, slot?: number) => ({
    state: 'LEASED' as const,
    lease_owner: owner,
    lease_expires_at: ahead(200),
    ...(slot === undefined ? {} : { slot, total_slot: slot, slot_claim: `claim-${slot}` }),
  });

  describe('Method: acquire', () => {
    beforeEach(() => {
      // Free slots, and an execution record that takes every write.
      ddb.on(PutCommand).resolves({});
      ddb.on(UpdateCommand).resolves({});
    });

    it('leases the most recently used idle session with a conditional update', async () => {
      // Prepare
      poolHolds(session('older', { last_used_at: ago(200) }), session('newer'));
      ddb.on(UpdateCommand, { Key: { pool_id: 'acme#acme' } }).callsFake((input) => ({
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
      expect(ddb).not.toReceiveCommand(PutCommand);
    });

    it('reserves a slot of the tenant and one of the cluster when the pool is empty, and writes them to the record', async () => {
      // Prepare
      poolHolds();

      // Act
      const result = await store.acquire('acme', 'acme', EXECUTION_ARN);

      // Assess
      expect(result).toEqual({
        kind: 'miss',
        expiredRemoved: 0,
        waitedMs: 0,
        reservation: {
          claim: expect.any(String),
          slot: 0,
          totalSlot: expect.any(Number),
          reservedAt: NOW.toISOString(),
        },
        sessionsLeased: false,
      });
      const reservation = result.kind === 'miss' ? result.reservation : undefined;
      expect(ddb).toReceiveCommandWith(PutCommand, {
        Item: expect.objectContaining({
          pool_id: '#slot#acme#acme',
          session_id: '0',
          claim: reservation?.claim,
        }),
        ConditionExpression: 'attribute_not_exists(pool_id)',
      });
      expect(ddb).toReceiveCommandWith(PutCommand, {
        Item: expect.objectContaining({
          pool_id: '#total-slot#default',
          session_id: String(reservation?.totalSlot),
          claim: reservation?.claim,
        }),
        ConditionExpression: 'attribute_not_exists(pool_id)',
      });
      expect(ddb).toReceiveCommandWith(UpdateCommand, {
        Key: recordKey,
        ExpressionAttributeValues: expect.objectContaining({ ':reservation': reservation }),
      });
    });

    it('passes over a session the Data API closes, at its 24 hours, before the query may end', async () => {
      // Prepare: opened 20 hours ago, it has 4 hours left; the query may take 6.
      poolHolds(
        session('old', { created_at: ago(20 * 3600) }),
        session('young', { last_used_at: ago(200) }),
      );
      ddb.on(UpdateCommand, { Key: { pool_id: 'acme#acme' } }).callsFake((input) => ({
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
      // Prepare: the cap is 2; both sessions hold a slot, idle but 20 hours old
      poolHolds(
        session('a', { created_at: ago(20 * 3600), slot: 0, total_slot: 0, slot_claim: 'c-0' }),
        session('b', { created_at: ago(20 * 3600), slot: 1, total_slot: 1, slot_claim: 'c-1' }),
      );

      // Act
      const result = await store.acquire('acme', 'acme', EXECUTION_ARN, {
        waitMs: 0,
        lifeNeededSeconds: 6 * 3600,
      });

      // Assess: nothing leased, no slot reserved
      expect(result).toEqual(expect.objectContaining({ kind: 'miss', sessionless: true }));
      expect(result).not.toHaveProperty('reservation');
      expect(poolUpdates()).toHaveLength(0);
      expect(ddb).not.toReceiveCommand(PutCommand);
    });

    it('skips and deletes a session whose keep-alive runs out within the margin, giving its slots back', async () => {
      // Prepare: expires in 10 s, less than the 30 s needed to submit on it
      poolHolds(
        session('closing', { expires_at: ahead(10), slot: 1, total_slot: 9, slot_claim: 'c-1' }),
      );
      ddb.on(DeleteCommand).resolves({});

      // Act
      const result = await store.acquire('acme', 'acme', EXECUTION_ARN);

      // Assess
      expect(result).toEqual(expect.objectContaining({ kind: 'miss', expiredRemoved: 1 }));
      expect(ddb).toReceiveCommandWith(DeleteCommand, {
        Key: { pool_id: 'acme#acme', session_id: 'closing' },
      });
      for (const Key of [
        { pool_id: '#slot#acme#acme', session_id: '1' },
        { pool_id: '#total-slot#default', session_id: '9' },
      ])
        expect(ddb).toReceiveCommandWith(DeleteCommand, {
          Key,
          ExpressionAttributeValues: { ':claim': 'c-1' },
        });
      expect(poolUpdates()).toHaveLength(0);
    });

    it('skips and deletes a session idle for longer than the idle timeout', async () => {
      poolHolds(session('idle-too-long', { last_used_at: ago(301) }));
      ddb.on(DeleteCommand).resolves({});

      await expect(store.acquire('acme', 'acme', EXECUTION_ARN)).resolves.toEqual(
        expect.objectContaining({ kind: 'miss', expiredRemoved: 1 }),
      );
      expect(ddb).toReceiveCommandWith(DeleteCommand, {
        Key: { pool_id: 'acme#acme', session_id: 'idle-too-long' },
      });
    });

    it('moves on to the next session when another execution wins the race for the first', async () => {
      // Prepare
      poolHolds(session('contested'), session('free', { last_used_at: ago(120) }));
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
      expect(poolUpdates()).toHaveLength(2);
    });

    it('throws SessionPoolExhaustedError when every session is leased and the pool is at its cap', async () => {
      poolHolds(session('a', leasedTo('other', 0)), session('b', leasedTo('other', 1)));

      await expect(store.acquire('acme', 'acme', EXECUTION_ARN)).rejects.toThrow(
        expect.objectContaining({
          name: 'SessionPoolExhaustedError',
          message: expect.stringContaining('the cap is 2'),
        }),
      );
      expect(ddb).not.toReceiveCommand(PutCommand);
    });

    it('never reserves a slot that another opener holds: at the cap without a session record, it fails too', async () => {
      // Prepare: one session, and the other slot reserved by an opener that has not recorded yet
      poolHolds(session('a', leasedTo('other', 0)));
      ddb.on(PutCommand).rejects(conditionFailed());
      tenantSlotsHold({ session_id: '1', claim: 'opening', expires_at: ahead(200) });

      // Act / Assess
      await expect(store.acquire('acme', 'acme', EXECUTION_ARN)).rejects.toThrow(
        expect.objectContaining({ name: 'SessionPoolExhaustedError' }),
      );
    });

    it('takes over the slot of an opener that vanished once its reservation has lapsed', async () => {
      // Prepare
      poolHolds(session('a', leasedTo('other', 0)));
      ddb.on(PutCommand, { Item: { pool_id: '#slot#acme#acme' } }).rejects(conditionFailed());
      ddb.on(PutCommand, { ConditionExpression: 'claim = :seen' }).resolves({});
      tenantSlotsHold({ session_id: '1', claim: 'vanished', expires_at: ago(1) });

      // Act
      const result = await store.acquire('acme', 'acme', EXECUTION_ARN);

      // Assess
      expect(result).toEqual(expect.objectContaining({ kind: 'miss', sessionsLeased: true }));
      expect(ddb).toReceiveCommandWith(PutCommand, {
        Item: expect.objectContaining({ pool_id: '#slot#acme#acme', session_id: '1' }),
        ConditionExpression: 'claim = :seen',
        ExpressionAttributeValues: { ':seen': 'vanished' },
      });
    });

    it('never takes over the slot of an expired session whose record its delete did not remove', async () => {
      // Prepare: at the cap; the expired record changed before its delete (its lease holder gave
      // it back just then), so it stays, and holds its slot, whose reservation lapsed long ago
      poolHolds(
        session('a', leasedTo('other', 0)),
        session('stays', { last_used_at: ago(301), slot: 1, total_slot: 1, slot_claim: 'claim-1' }),
      );
      ddb.on(DeleteCommand).rejects(conditionFailed());
      ddb.on(PutCommand, { Item: { pool_id: '#slot#acme#acme' } }).rejects(conditionFailed());
      ddb.on(PutCommand, { ConditionExpression: 'claim = :seen' }).resolves({});
      tenantSlotsHold(
        { session_id: '0', claim: 'claim-0', expires_at: ago(300) },
        { session_id: '1', claim: 'claim-1', expires_at: ago(300) },
      );

      // Act
      const acquired = store.acquire('acme', 'acme', EXECUTION_ARN);

      // Assess
      await expect(acquired).rejects.toThrow(
        expect.objectContaining({ name: 'SessionPoolExhaustedError' }),
      );
      expect(ddb).not.toReceiveCommandWith(PutCommand, { ConditionExpression: 'claim = :seen' });
    });

    it('says every session was leased when another query of the tenant is opening one the pool does not hold yet', async () => {
      // Prepare: no record, and slot 0 reserved by an opener whose session is not recorded yet
      poolHolds();
      ddb
        .on(PutCommand, { Item: { pool_id: '#slot#acme#acme', session_id: '0' } })
        .rejects(conditionFailed());

      // Act
      const result = await store.acquire('acme', 'acme', EXECUTION_ARN);

      // Assess: it races that session against its own (see SubmitQuery)
      expect(result).toEqual(
        expect.objectContaining({
          kind: 'miss',
          reservation: expect.objectContaining({ slot: 1 }),
          sessionsLeased: true,
        }),
      );
    });

    it('puts the tenant slot and a cluster slot at once below the cap', async () => {
      // Prepare: the tenant slot's put answers only once the cluster slot's has been sent
      poolHolds();
      let totalSent = () => {};
      const totalPut = new Promise<void>((resolve) => {
        totalSent = resolve;
      });
      ddb.on(PutCommand, { Item: { pool_id: '#total-slot#default' } }).callsFake(async () => {
        totalSent();
        return {};
      });
      ddb.on(PutCommand, { Item: { pool_id: '#slot#acme#acme' } }).callsFake(async () => {
        await totalPut;
        return {};
      });

      // Act
      const result = await store.acquire('acme', 'acme', EXECUTION_ARN);

      // Assess
      expect(result).toEqual(
        expect.objectContaining({
          kind: 'miss',
          reservation: expect.objectContaining({ slot: 0 }),
        }),
      );
      expect(ddb).toReceiveCommandTimes(PutCommand, 2);
    });

    it('gives the cluster slot back when every slot of the tenant turns out taken', async () => {
      // Prepare: one session on slot 0; slot 1 reserved by a live opener
      poolHolds(session('a', leasedTo('other', 0)));
      ddb
        .on(PutCommand, { Item: { pool_id: '#slot#acme#acme', session_id: '1' } })
        .rejects(conditionFailed());
      tenantSlotsHold({ session_id: '1', claim: 'opening', expires_at: ahead(200) });
      ddb.on(DeleteCommand).resolves({});

      // Act
      const error = await store.acquire('acme', 'acme', EXECUTION_ARN).catch((e: Error) => e);

      // Assess
      expect(error).toMatchObject({ name: 'SessionPoolExhaustedError' });
      const total = ddb
        .commandCalls(PutCommand)
        .map((call) => call.args[0].input.Item)
        .find((item) => item?.pool_id === '#total-slot#default');
      expect(ddb).toReceiveCommandWith(DeleteCommand, {
        Key: { pool_id: '#total-slot#default', session_id: total?.session_id },
        ExpressionAttributeValues: { ':claim': total?.claim },
      });
    });

    it('reports a miss with a reservation and says every session was leased when the pool is below its cap', async () => {
      poolHolds(session('a', leasedTo('other', 0)));

      await expect(store.acquire('acme', 'acme', EXECUTION_ARN)).resolves.toEqual(
        expect.objectContaining({
          kind: 'miss',
          reservation: expect.objectContaining({ slot: 1 }),
          sessionsLeased: true,
        }),
      );
    });

    it("reports a miss without a reservation, and keeps no tenant slot, at the cluster's cap", async () => {
      // Prepare: a cluster cap of 3, every slot of it held
      const capped = new SessionStore(
        documents,
        'sessions',
        { ...policy, maxSessionsTotal: 3, target: 'cluster/c' },
        () => NOW,
      );
      poolHolds();
      ddb
        .on(QueryCommand, { ExpressionAttributeValues: { ':partition': '#total-slot#cluster/c' } })
        .resolves({
          Items: [0, 1, 2].map((slot) => ({
            pool_id: '#total-slot#cluster/c',
            session_id: String(slot),
            claim: `other-${slot}`,
          })),
        });
      ddb.on(PutCommand, { Item: { pool_id: '#total-slot#cluster/c' } }).rejects(conditionFailed());
      ddb.on(DeleteCommand).resolves({});

      // Act
      const result = await capped.acquire('acme', 'acme', EXECUTION_ARN);

      // Assess
      expect(result).toEqual({ kind: 'miss', expiredRemoved: 0, waitedMs: 0, atTotalCap: true });
      expect(ddb).toReceiveCommandWith(DeleteCommand, {
        Key: { pool_id: '#slot#acme#acme', session_id: '0' },
      });
      // One put on a slot picked at random, which another opener holds, then none: the read
      // found every slot held.
      const totalPuts = ddb
        .commandCalls(PutCommand)
        .filter((call) => call.args[0].input.Item?.pool_id === '#total-slot#cluster/c');
      expect(totalPuts).toHaveLength(1);
    });

    it('reserves nothing for SQL that may not open a session', async () => {
      poolHolds();

      await expect(
        store.acquire('acme', 'acme', EXECUTION_ARN, { mayOpen: false }),
      ).resolves.toEqual({
        kind: 'miss',
        expiredRemoved: 0,
        waitedMs: 0,
      });
      expect(ddb).not.toReceiveCommand(PutCommand);
    });

    it('takes over a session whose lease ran out without renewal', async () => {
      poolHolds(
        session('abandoned', { state: 'LEASED', lease_owner: 'gone', lease_expires_at: ago(5) }),
      );
      ddb.on(UpdateCommand, { Key: { pool_id: 'acme#acme' } }).resolves({
        Attributes: session('abandoned', { state: 'LEASED', lease_owner: EXECUTION_ARN }),
      });

      const result = await store.acquire('acme', 'acme', EXECUTION_ARN);

      expect(result.kind).toBe('hit');
      expect(ddb).toReceiveCommandWith(UpdateCommand, {
        ConditionExpression: expect.stringContaining('lease_expires_at < :now'),
      });
    });

    it('returns the session it already leased to the same execution, for a retried invocation', async () => {
      poolHolds(
        session('mine', {
          state: 'LEASED',
          lease_owner: EXECUTION_ARN,
          lease_expires_at: ahead(250),
        }),
      );

      const result = await store.acquire('acme', 'acme', EXECUTION_ARN);

      expect(result).toEqual(
        expect.objectContaining({
          kind: 'hit',
          session: expect.objectContaining({ session_id: 'mine' }),
        }),
      );
      expect(poolUpdates()).toHaveLength(0);
    });

    it('gives the lease back when its run was stopped meanwhile, and reports a miss', async () => {
      // Prepare: the execution's clean-up marked the record before this lease was written
      poolHolds(session('free'));
      ddb.on(UpdateCommand, { Key: { pool_id: 'acme#acme' } }).callsFake((input) => ({
        Attributes: {
          ...session(input.Key.session_id),
          state: 'LEASED',
          lease_owner: EXECUTION_ARN,
        },
      }));
      ddb.on(UpdateCommand, { Key: recordKey }).rejects(conditionFailed());

      // Act
      const result = await store.acquire('acme', 'acme', EXECUTION_ARN);

      // Assess
      expect(result).toEqual({ kind: 'miss', expiredRemoved: 0, waitedMs: 0, ownerStopped: true });
      expect(ddb).toReceiveCommandWith(UpdateCommand, {
        Key: recordKey,
        ConditionExpression: 'attribute_not_exists(stopped_run) OR stopped_run < :run',
      });
      expect(poolUpdates()).toHaveLength(2);
      expect(ddb).toReceiveNthCommandWith(UpdateCommand, 3, {
        Key: { pool_id: 'acme#acme', session_id: 'free' },
        ConditionExpression: '#state = :leased AND lease_owner = :owner',
        UpdateExpression: 'SET #state = :idle REMOVE lease_owner, lease_expires_at',
      });
    });

    it('gives its reservation back when its run was stopped meanwhile', async () => {
      poolHolds();
      ddb.on(UpdateCommand, { Key: recordKey }).rejects(conditionFailed());
      ddb.on(DeleteCommand).resolves({});

      const result = await store.acquire('acme', 'acme', EXECUTION_ARN);

      expect(result).toEqual({ kind: 'miss', expiredRemoved: 0, waitedMs: 0, ownerStopped: true });
      expect(ddb).toReceiveCommandWith(DeleteCommand, {
        Key: { pool_id: '#slot#acme#acme', session_id: '0' },
      });
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

  describe('Method: acquire, at the cap with a wait for a session to come back', () => {
    /** A store that waits up to 300 ms; its pauses are recorded, not slept. */
    function waitingStore() {
      const pauses: number[] = [];
      const waiting = new SessionStore(
        DynamoDBDocumentClient.from(new DynamoDBClient({})),
        'sessions',
        { ...policy, acquireWaitMs: 300 },
        () => NOW,
        async (ms) => {
          pauses.push(ms);
        },
      );
      return { waiting, pauses };
    }
    const full = [session('a', leasedTo('other-1', 0)), session('b', leasedTo('other-2', 1))];

    beforeEach(() => {
      ddb.on(PutCommand).rejects(conditionFailed());
      ddb.on(UpdateCommand).resolves({});
    });

    it('waits for a leased session another execution gives back, then leases it', async () => {
      // Prepare: the pool as each read finds it
      const { waiting, pauses } = waitingStore();
      ddb.on(QueryCommand).resolves({ Items: [] });
      ddb
        .on(QueryCommand, { ExpressionAttributeValues: { ':pool': 'acme#acme' } })
        .resolvesOnce({ Items: full })
        .resolvesOnce({ Items: full })
        .resolves({
          Items: [
            full[0] as SessionRecord,
            session('b', { slot: 1, total_slot: 1, slot_claim: 'claim-1' }),
          ],
        });
      ddb.on(UpdateCommand, { Key: { pool_id: 'acme#acme' } }).callsFake((input) => ({
        Attributes: { ...session(input.Key.session_id), ...leasedTo(EXECUTION_ARN) },
      }));

      // Act
      const result = await waiting.acquire('acme', 'acme', EXECUTION_ARN);

      // Assess
      expect(result).toEqual(
        expect.objectContaining({
          kind: 'hit',
          session: expect.objectContaining({ session_id: 'b' }),
          waitedMs: 50,
        }),
      );
      expect(pauses).toEqual([20, 30]);
    });

    it('does not wait for sessions that would close before the query may end, and runs it without one', async () => {
      // Prepare: one idle and one leased session, both 20 hours old
      const { waiting, pauses } = waitingStore();
      poolHolds(
        session('a', { created_at: ago(20 * 3600), slot: 0, total_slot: 0, slot_claim: 'c-0' }),
        session('b', { created_at: ago(20 * 3600), ...leasedTo('other', 1) }),
      );

      // Act
      const result = await waiting.acquire('acme', 'acme', EXECUTION_ARN, {
        lifeNeededSeconds: 6 * 3600,
      });

      // Assess
      expect(result).toEqual(expect.objectContaining({ kind: 'miss', sessionless: true }));
      expect(pauses).toEqual([]);
    });

    it('reads the pool less often the longer it waits, then fails: it never opens past the cap', async () => {
      const { waiting, pauses } = waitingStore();
      ddb.on(QueryCommand).resolves({ Items: [] });
      ddb
        .on(QueryCommand, { ExpressionAttributeValues: { ':pool': 'acme#acme' } })
        .resolves({ Items: full });

      await expect(waiting.acquire('acme', 'acme', EXECUTION_ARN)).rejects.toThrow(
        expect.objectContaining({
          name: 'SessionPoolExhaustedError',
          message: expect.stringContaining('all leased for the 300 ms it waited'),
        }),
      );
      // 20 ms at first, growing by half, the last cut to the time left
      expect(pauses).toEqual([20, 30, 45, 68, 101, 36]);
      expect(pauses.reduce((sum, pause) => sum + pause, 0)).toBe(300);
    });

    it('does not wait below the cap: it reserves a slot at once', async () => {
      const { waiting, pauses } = waitingStore();
      ddb.on(PutCommand).resolves({});
      ddb.on(QueryCommand).resolves({ Items: [] });
      ddb
        .on(QueryCommand, { ExpressionAttributeValues: { ':pool': 'acme#acme' } })
        .resolves({ Items: [full[0] as SessionRecord] });

      await expect(waiting.acquire('acme', 'acme', EXECUTION_ARN)).resolves.toEqual(
        expect.objectContaining({ kind: 'miss', waitedMs: 0, sessionsLeased: true }),
      );
      expect(pauses).toEqual([]);
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

      const record = await store.recordNewSession({
        tenantId: 'acme',
        dbUser: 'acme',
        sessionId: 's-new',
        owner: EXECUTION_ARN,
        reservation: { claim: 'c-7', slot: 1, totalSlot: 70, reservedAt: ago(2) },
      });

      expect(record).toEqual(
        expect.objectContaining({
          state: 'LEASED',
          lease_owner: EXECUTION_ARN,
          created_at: NOW.toISOString(),
          expires_at: ahead(3600),
          slot: 1,
          total_slot: 70,
          slot_claim: 'c-7',
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

    it('deletes the records of executions past their time, and keeps the others', async () => {
      const record = (arn: string, expiresAt: string) => ({
        pool_id: `#execution#${arn}`,
        session_id: 'execution',
        execution_arn: arn,
        updated_at: ago(3600),
        expires_at: expiresAt,
        ttl: 0,
      });
      ddb.on(ScanCommand).resolves({
        Items: [record(`${EXECUTION_ARN}-old`, ago(1)), record(`${EXECUTION_ARN}-new`, ahead(60))],
      });
      ddb.on(DeleteCommand).resolves({});

      await expect(sweeper.cleanupExpiredSessions()).resolves.toBe(1);
      expect(ddb).toReceiveCommandWith(DeleteCommand, {
        Key: { pool_id: `#execution#${EXECUTION_ARN}-old`, session_id: 'execution' },
        ConditionExpression: 'expires_at = :seenExpires',
      });
      expect(ddb).toReceiveCommandTimes(DeleteCommand, 1);
    });

    it('frees a lapsed slot that no session of its pool holds, and keeps one a session holds', async () => {
      // Prepare: two lapsed reservations; a session was recorded on the second
      const slot = (number: number, claim: string) => ({
        pool_id: '#slot#acme#acme',
        session_id: String(number),
        claim,
        owner: EXECUTION_ARN,
        pool: 'acme#acme',
        reserved_at: ago(400),
        expires_at: ago(100),
        ttl: 0,
      });
      ddb.on(ScanCommand).resolves({ Items: [slot(0, 'vanished'), slot(1, 'held')] });
      ddb
        .on(QueryCommand)
        .resolves({ Items: [session('s', { slot: 1, total_slot: 1, slot_claim: 'held' })] });
      ddb.on(DeleteCommand).resolves({});

      // Act
      await expect(sweeper.cleanupExpiredSessions()).resolves.toBe(1);

      // Assess
      expect(ddb).toReceiveCommandWith(DeleteCommand, {
        Key: { pool_id: '#slot#acme#acme', session_id: '0' },
        ConditionExpression: 'claim = :claim AND expires_at = :seenExpires',
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

  describe('Method: executions.markStopped', () => {
    it("marks the run stopped in the execution's record, for an hour, and returns what the steps wrote", async () => {
      const written = { reservation: { claim: 'c', slot: 0, totalSlot: 0, reservedAt: ago(5) } };
      ddb.on(UpdateCommand).resolves({ Attributes: written });

      await expect(store.executions.markStopped(EXECUTION_ARN, 0)).resolves.toEqual(written);

      expect(ddb).toReceiveCommandWith(UpdateCommand, {
        Key: { pool_id: `#execution#${EXECUTION_ARN}`, session_id: 'execution' },
        ConditionExpression: 'attribute_not_exists(stopped_run) OR stopped_run < :run',
        ExpressionAttributeValues: expect.objectContaining({ ':run': 0, ':expires': ahead(3600) }),
        ReturnValues: 'ALL_NEW',
      });
    });
  });
});
