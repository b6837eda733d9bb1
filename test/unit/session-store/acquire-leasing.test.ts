import { DeleteCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { TransientServiceError } from '../../../functions/common/errors.ts';
import { EXECUTION_ARN, NOW } from '../../support/unit-deps.ts';
import * as fx from './fixtures.ts';

/**
 * SessionStore.acquire leasing a pooled session: the most recently used first, expired ones
 * deleted on the way, a lost race, a lapsed lease taken over, a retried invocation, a stopped run.
 */

describe('Class: SessionStore', () => {
  beforeEach(fx.emptyTable);

  describe('Method: acquire, leasing a session', () => {
    beforeEach(fx.freeSlotsAndRecord);

    it('leases the most recently used idle session with a conditional update', async () => {
      // Prepare
      fx.poolHolds(fx.session('older', { last_used_at: fx.ago(200) }), fx.session('newer'));
      fx.ddb.on(UpdateCommand, { Key: { pool_id: 'acme#acme' } }).callsFake((input) => ({
        Attributes: { ...fx.session(input.Key.session_id), state: 'LEASED' },
      }));

      // Act
      const result = await fx.store.acquire('acme', 'acme', EXECUTION_ARN);

      // Assess
      fx.expectHit(result, 'newer');
      expect(fx.ddb).toReceiveCommandWith(QueryCommand, {
        ConsistentRead: true,
        ExpressionAttributeValues: { ':pool': 'acme#acme' },
      });
      expect(fx.ddb).toReceiveCommandWith(UpdateCommand, {
        Key: { pool_id: 'acme#acme', session_id: 'newer' },
        ConditionExpression: expect.stringContaining('#state = :idle'),
        ExpressionAttributeValues: expect.objectContaining({
          ':owner': EXECUTION_ARN,
          ':leased': 'LEASED',
        }),
      });
      expect(fx.ddb).not.toReceiveCommand(PutCommand);
    });

    it('reserves a slot of the tenant and one of the cluster when the pool is empty, and writes them to the record', async () => {
      // Prepare
      fx.poolHolds();

      // Act
      const result = await fx.store.acquire('acme', 'acme', EXECUTION_ARN);

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
      expect(fx.ddb).toReceiveCommandWith(PutCommand, {
        Item: expect.objectContaining({
          pool_id: '#slot#acme#acme',
          session_id: '0',
          claim: reservation?.claim,
        }),
        ConditionExpression: 'attribute_not_exists(pool_id)',
      });
      expect(fx.ddb).toReceiveCommandWith(PutCommand, {
        Item: expect.objectContaining({
          pool_id: '#total-slot#default',
          session_id: String(reservation?.totalSlot),
          claim: reservation?.claim,
        }),
        ConditionExpression: 'attribute_not_exists(pool_id)',
      });
      expect(fx.ddb).toReceiveCommandWith(UpdateCommand, {
        Key: fx.recordKey,
        ExpressionAttributeValues: expect.objectContaining({ ':reservation': reservation }),
      });
    });

    it('passes over a session the Data API closes, at its 24 hours, before the query may end', async () => {
      // Prepare: opened 20 hours ago, it has 4 hours left; the query may take 6.
      fx.poolHolds(
        fx.session('old', { created_at: fx.ago(20 * 3600) }),
        fx.session('young', { last_used_at: fx.ago(200) }),
      );
      fx.ddb.on(UpdateCommand, { Key: { pool_id: 'acme#acme' } }).callsFake((input) => ({
        Attributes: { ...fx.session(input.Key.session_id), state: 'LEASED' },
      }));

      // Act
      const long = await fx.store.acquire('acme', 'acme', EXECUTION_ARN, {
        lifeNeededSeconds: 6 * 3600,
      });

      // Assess: the young one, though the old one was used last; a short query may have the old one
      expect(long).toEqual(
        expect.objectContaining({
          kind: 'hit',
          session: expect.objectContaining({ session_id: 'young' }),
        }),
      );
      const short = await fx.store.acquire('acme', 'acme', EXECUTION_ARN, {
        lifeNeededSeconds: 60,
      });
      expect(short).toEqual(
        expect.objectContaining({ session: expect.objectContaining({ session_id: 'old' }) }),
      );
    });

    it('reports a sessionless miss, not an exhausted pool, when the full pool holds only sessions that close too soon', async () => {
      // Prepare: the cap is 2; both sessions hold a slot, idle but 20 hours old
      fx.poolHolds(fx.openedLongAgo('a', 0), fx.openedLongAgo('b', 1));

      // Act
      const result = await fx.store.acquire('acme', 'acme', EXECUTION_ARN, {
        waitMs: 0,
        lifeNeededSeconds: 6 * 3600,
      });

      // Assess: nothing leased, no slot reserved
      expect(result).toEqual(expect.objectContaining({ kind: 'miss', sessionless: true }));
      expect(result).not.toHaveProperty('reservation');
      expect(fx.poolUpdates()).toHaveLength(0);
      expect(fx.ddb).not.toReceiveCommand(PutCommand);
    });

    it('skips and deletes a session whose keep-alive runs out within the margin, giving its slots back', async () => {
      // Prepare: expires in 10 s, less than the 30 s needed to submit on it
      fx.poolHolds(
        fx.session('closing', {
          expires_at: fx.ahead(10),
          slot: 1,
          total_slot: 9,
          slot_claim: 'c-1',
        }),
      );
      fx.ddb.on(DeleteCommand).resolves({});

      // Act
      const result = await fx.store.acquire('acme', 'acme', EXECUTION_ARN);

      // Assess
      expect(result).toEqual(expect.objectContaining({ kind: 'miss', expiredRemoved: 1 }));
      expect(fx.ddb).toReceiveCommandWith(DeleteCommand, {
        Key: { pool_id: 'acme#acme', session_id: 'closing' },
      });
      for (const Key of [
        { pool_id: '#slot#acme#acme', session_id: '1' },
        { pool_id: '#total-slot#default', session_id: '9' },
      ])
        expect(fx.ddb).toReceiveCommandWith(DeleteCommand, {
          Key,
          ExpressionAttributeValues: { ':claim': 'c-1' },
        });
      expect(fx.poolUpdates()).toHaveLength(0);
    });

    it('skips and deletes a session idle for longer than the idle timeout', async () => {
      fx.poolHolds(fx.session('idle-too-long', { last_used_at: fx.ago(301) }));
      fx.ddb.on(DeleteCommand).resolves({});

      await expect(fx.store.acquire('acme', 'acme', EXECUTION_ARN)).resolves.toEqual(
        expect.objectContaining({ kind: 'miss', expiredRemoved: 1 }),
      );
      expect(fx.ddb).toReceiveCommandWith(DeleteCommand, {
        Key: { pool_id: 'acme#acme', session_id: 'idle-too-long' },
      });
    });

    it('moves on to the next session when another execution wins the race for the first', async () => {
      // Prepare
      fx.poolHolds(fx.session('contested'), fx.session('free', { last_used_at: fx.ago(120) }));
      fx.ddb
        .on(UpdateCommand, { Key: { pool_id: 'acme#acme', session_id: 'contested' } })
        .rejects(fx.conditionFailed());
      fx.ddb
        .on(UpdateCommand, { Key: { pool_id: 'acme#acme', session_id: 'free' } })
        .resolves({ Attributes: fx.session('free', { state: 'LEASED' }) });

      // Act
      const result = await fx.store.acquire('acme', 'acme', EXECUTION_ARN);

      // Assess
      fx.expectHit(result, 'free');
      expect(fx.poolUpdates()).toHaveLength(2);
    });

    it('takes over a session whose lease ran out without renewal', async () => {
      fx.poolHolds(
        fx.session('abandoned', {
          state: 'LEASED',
          lease_owner: 'gone',
          lease_expires_at: fx.ago(5),
        }),
      );
      fx.ddb.on(UpdateCommand, { Key: { pool_id: 'acme#acme' } }).resolves({
        Attributes: fx.session('abandoned', { state: 'LEASED', lease_owner: EXECUTION_ARN }),
      });

      const result = await fx.store.acquire('acme', 'acme', EXECUTION_ARN);

      expect(result.kind).toBe('hit');
      expect(fx.ddb).toReceiveCommandWith(UpdateCommand, {
        ConditionExpression: expect.stringContaining('lease_expires_at < :now'),
      });
    });

    it('returns the session it already leased to the same execution, for a retried invocation', async () => {
      fx.poolHolds(
        fx.session('mine', {
          state: 'LEASED',
          lease_owner: EXECUTION_ARN,
          lease_expires_at: fx.ahead(250),
        }),
      );

      const result = await fx.store.acquire('acme', 'acme', EXECUTION_ARN);

      fx.expectHit(result, 'mine');
      expect(fx.poolUpdates()).toHaveLength(0);
    });

    it('gives the lease back when its run was stopped meanwhile, and reports a miss', async () => {
      // Prepare: the execution's clean-up marked the record before this lease was written
      fx.poolHolds(fx.session('free'));
      fx.ddb.on(UpdateCommand, { Key: { pool_id: 'acme#acme' } }).callsFake((input) => ({
        Attributes: {
          ...fx.session(input.Key.session_id),
          state: 'LEASED',
          lease_owner: EXECUTION_ARN,
        },
      }));
      fx.ddb.on(UpdateCommand, { Key: fx.recordKey }).rejects(fx.conditionFailed());

      // Act
      const result = await fx.store.acquire('acme', 'acme', EXECUTION_ARN);

      // Assess
      expect(result).toEqual({ kind: 'miss', expiredRemoved: 0, waitedMs: 0, ownerStopped: true });
      expect(fx.ddb).toReceiveCommandWith(UpdateCommand, {
        Key: fx.recordKey,
        ConditionExpression: 'attribute_not_exists(stopped_run) OR stopped_run < :run',
      });
      expect(fx.poolUpdates()).toHaveLength(2);
      expect(fx.ddb).toReceiveNthCommandWith(UpdateCommand, 3, {
        Key: { pool_id: 'acme#acme', session_id: 'free' },
        ConditionExpression: '#state = :leased AND lease_owner = :owner',
        UpdateExpression: 'SET #state = :idle REMOVE lease_owner, lease_expires_at',
      });
    });

    it('gives its reservation back when its run was stopped meanwhile', async () => {
      fx.poolHolds();
      fx.ddb.on(UpdateCommand, { Key: fx.recordKey }).rejects(fx.conditionFailed());
      fx.ddb.on(DeleteCommand).resolves({});

      const result = await fx.store.acquire('acme', 'acme', EXECUTION_ARN);

      expect(result).toEqual({ kind: 'miss', expiredRemoved: 0, waitedMs: 0, ownerStopped: true });
      expect(fx.ddb).toReceiveCommandWith(DeleteCommand, {
        Key: { pool_id: '#slot#acme#acme', session_id: '0' },
      });
    });

    it('throws TransientServiceError when DynamoDB keeps throttling', async () => {
      const throttled = Object.assign(new Error('Rate exceeded'), {
        name: 'ProvisionedThroughputExceededException',
      });
      fx.ddb.on(QueryCommand).rejects(throttled);

      await expect(fx.store.acquire('acme', 'acme', EXECUTION_ARN)).rejects.toBeInstanceOf(
        TransientServiceError,
      );
    });
  });
});
