import { DeleteCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import type { SessionRecord } from '../../../functions/common/session-record.ts';
import { SessionStore } from '../../../functions/common/session-store.ts';
import { EXECUTION_ARN, NOW } from '../../support/unit-deps.ts';
import * as fx from './fixtures.ts';

/**
 * SessionStore.acquire reserving the slots of a new session: the tenant's and the cluster's caps,
 * openers that vanished, and the wait at the tenant's cap for a session to come back.
 */

describe('Class: SessionStore', () => {
  beforeEach(fx.emptyTable);

  describe('Method: acquire, reserving slots', () => {
    beforeEach(fx.freeSlotsAndRecord);

    it('throws SessionPoolExhaustedError when every session is leased and the pool is at its cap', async () => {
      fx.poolHolds(
        fx.session('a', fx.leasedTo('other', 0)),
        fx.session('b', fx.leasedTo('other', 1)),
      );

      await expect(fx.store.acquire('acme', 'acme', EXECUTION_ARN)).rejects.toThrow(
        expect.objectContaining({
          name: 'SessionPoolExhaustedError',
          message: expect.stringContaining('the cap is 2'),
        }),
      );
      expect(fx.ddb).not.toReceiveCommand(PutCommand);
    });

    it('never reserves a slot that another opener holds: at the cap without a session record, it fails too', async () => {
      // Prepare: one session, and the other slot reserved by an opener that has not recorded yet
      fx.poolHolds(fx.session('a', fx.leasedTo('other', 0)));
      fx.ddb.on(PutCommand).rejects(fx.conditionFailed());
      fx.tenantSlotsHold({ session_id: '1', claim: 'opening', expires_at: fx.ahead(200) });

      // Act / Assess
      await expect(fx.store.acquire('acme', 'acme', EXECUTION_ARN)).rejects.toThrow(
        expect.objectContaining({ name: 'SessionPoolExhaustedError' }),
      );
    });

    it('takes over the slot of an opener that vanished once its reservation has lapsed', async () => {
      // Prepare
      fx.poolHolds(fx.session('a', fx.leasedTo('other', 0)));
      fx.ddb.on(PutCommand, { Item: { pool_id: '#slot#acme#acme' } }).rejects(fx.conditionFailed());
      fx.ddb.on(PutCommand, { ConditionExpression: 'claim = :seen' }).resolves({});
      fx.tenantSlotsHold({ session_id: '1', claim: 'vanished', expires_at: fx.ago(1) });

      // Act
      const result = await fx.store.acquire('acme', 'acme', EXECUTION_ARN);

      // Assess
      expect(result).toEqual(expect.objectContaining({ kind: 'miss', sessionsLeased: true }));
      expect(fx.ddb).toReceiveCommandWith(PutCommand, {
        Item: expect.objectContaining({ pool_id: '#slot#acme#acme', session_id: '1' }),
        ConditionExpression: 'claim = :seen',
        ExpressionAttributeValues: { ':seen': 'vanished' },
      });
    });

    it('never takes over the slot of an expired session whose record its delete did not remove', async () => {
      // Prepare: at the cap; the expired record changed before its delete (its lease holder gave
      // it back just then), so it stays, and holds its slot, whose reservation lapsed long ago
      fx.poolHolds(
        fx.session('a', fx.leasedTo('other', 0)),
        fx.session('stays', {
          last_used_at: fx.ago(301),
          slot: 1,
          total_slot: 1,
          slot_claim: 'claim-1',
        }),
      );
      fx.ddb.on(DeleteCommand).rejects(fx.conditionFailed());
      fx.ddb.on(PutCommand, { Item: { pool_id: '#slot#acme#acme' } }).rejects(fx.conditionFailed());
      fx.ddb.on(PutCommand, { ConditionExpression: 'claim = :seen' }).resolves({});
      fx.tenantSlotsHold(
        { session_id: '0', claim: 'claim-0', expires_at: fx.ago(300) },
        { session_id: '1', claim: 'claim-1', expires_at: fx.ago(300) },
      );

      // Act
      const acquired = fx.store.acquire('acme', 'acme', EXECUTION_ARN);

      // Assess
      await expect(acquired).rejects.toThrow(
        expect.objectContaining({ name: 'SessionPoolExhaustedError' }),
      );
      expect(fx.ddb).not.toReceiveCommandWith(PutCommand, { ConditionExpression: 'claim = :seen' });
    });

    it('says every session was leased when another query of the tenant is opening one the pool does not hold yet', async () => {
      // Prepare: no record, and slot 0 reserved by an opener whose session is not recorded yet
      fx.poolHolds();
      fx.ddb
        .on(PutCommand, { Item: { pool_id: '#slot#acme#acme', session_id: '0' } })
        .rejects(fx.conditionFailed());

      // Act
      const result = await fx.store.acquire('acme', 'acme', EXECUTION_ARN);

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
      fx.poolHolds();
      let totalSent = () => {};
      const totalPut = new Promise<void>((resolve) => {
        totalSent = resolve;
      });
      fx.ddb.on(PutCommand, { Item: { pool_id: '#total-slot#default' } }).callsFake(async () => {
        totalSent();
        return {};
      });
      fx.ddb.on(PutCommand, { Item: { pool_id: '#slot#acme#acme' } }).callsFake(async () => {
        await totalPut;
        return {};
      });

      // Act
      const result = await fx.store.acquire('acme', 'acme', EXECUTION_ARN);

      // Assess
      expect(result).toEqual(
        expect.objectContaining({
          kind: 'miss',
          reservation: expect.objectContaining({ slot: 0 }),
        }),
      );
      expect(fx.ddb).toReceiveCommandTimes(PutCommand, 2);
    });

    it('gives the cluster slot back when every slot of the tenant turns out taken', async () => {
      // Prepare: one session on slot 0; slot 1 reserved by a live opener
      fx.poolHolds(fx.session('a', fx.leasedTo('other', 0)));
      fx.ddb
        .on(PutCommand, { Item: { pool_id: '#slot#acme#acme', session_id: '1' } })
        .rejects(fx.conditionFailed());
      fx.tenantSlotsHold({ session_id: '1', claim: 'opening', expires_at: fx.ahead(200) });
      fx.ddb.on(DeleteCommand).resolves({});

      // Act
      const error = await fx.store.acquire('acme', 'acme', EXECUTION_ARN).catch((e: Error) => e);

      // Assess
      expect(error).toMatchObject({ name: 'SessionPoolExhaustedError' });
      const total = fx.ddb
        .commandCalls(PutCommand)
        .map((call) => call.args[0].input.Item)
        .find((item) => item?.pool_id === '#total-slot#default');
      expect(fx.ddb).toReceiveCommandWith(DeleteCommand, {
        Key: { pool_id: '#total-slot#default', session_id: total?.session_id },
        ExpressionAttributeValues: { ':claim': total?.claim },
      });
    });

    it('reports a miss with a reservation and says every session was leased when the pool is below its cap', async () => {
      fx.poolHolds(fx.session('a', fx.leasedTo('other', 0)));

      await expect(fx.store.acquire('acme', 'acme', EXECUTION_ARN)).resolves.toEqual(
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
        fx.documents,
        'sessions',
        { ...fx.policy, maxSessionsTotal: 3, target: 'cluster/c' },
        () => NOW,
      );
      fx.poolHolds();
      fx.ddb
        .on(QueryCommand, { ExpressionAttributeValues: { ':partition': '#total-slot#cluster/c' } })
        .resolves({
          Items: [0, 1, 2].map((slot) => ({
            pool_id: '#total-slot#cluster/c',
            session_id: String(slot),
            claim: `other-${slot}`,
          })),
        });
      fx.ddb
        .on(PutCommand, { Item: { pool_id: '#total-slot#cluster/c' } })
        .rejects(fx.conditionFailed());
      fx.ddb.on(DeleteCommand).resolves({});

      // Act
      const result = await capped.acquire('acme', 'acme', EXECUTION_ARN);

      // Assess
      expect(result).toEqual({ kind: 'miss', expiredRemoved: 0, waitedMs: 0, atTotalCap: true });
      expect(fx.ddb).toReceiveCommandWith(DeleteCommand, {
        Key: { pool_id: '#slot#acme#acme', session_id: '0' },
      });
      // One put on a slot picked at random, which another opener holds, then none: the read
      // found every slot held.
      const totalPuts = fx.ddb
        .commandCalls(PutCommand)
        .filter((call) => call.args[0].input.Item?.pool_id === '#total-slot#cluster/c');
      expect(totalPuts).toHaveLength(1);
    });

    it('reserves nothing for SQL that may not open a session', async () => {
      fx.poolHolds();

      await expect(
        fx.store.acquire('acme', 'acme', EXECUTION_ARN, { mayOpen: false }),
      ).resolves.toEqual({
        kind: 'miss',
        expiredRemoved: 0,
        waitedMs: 0,
      });
      expect(fx.ddb).not.toReceiveCommand(PutCommand);
    });
  });

  describe('Method: acquire, at the cap with a wait for a session to come back', () => {
    const full = [
      fx.session('a', fx.leasedTo('other-1', 0)),
      fx.session('b', fx.leasedTo('other-2', 1)),
    ];

    beforeEach(() => {
      fx.ddb.on(PutCommand).rejects(fx.conditionFailed());
      fx.ddb.on(UpdateCommand).resolves({});
    });

    it('waits for a leased session another execution gives back, then leases it', async () => {
      // Prepare: the pool as each read finds it
      const { waiting, pauses } = fx.waitingStore();
      fx.ddb.on(QueryCommand).resolves({ Items: [] });
      fx.ddb
        .on(QueryCommand, { ExpressionAttributeValues: { ':pool': 'acme#acme' } })
        .resolvesOnce({ Items: full })
        .resolvesOnce({ Items: full })
        .resolves({
          Items: [
            full[0] as SessionRecord,
            fx.session('b', { slot: 1, total_slot: 1, slot_claim: 'claim-1' }),
          ],
        });
      fx.ddb.on(UpdateCommand, { Key: { pool_id: 'acme#acme' } }).callsFake((input) => ({
        Attributes: { ...fx.session(input.Key.session_id), ...fx.leasedTo(EXECUTION_ARN) },
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
      const { waiting, pauses } = fx.waitingStore();
      fx.poolHolds(
        fx.openedLongAgo('a', 0),
        fx.session('b', { created_at: fx.ago(20 * 3600), ...fx.leasedTo('other', 1) }),
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
      const { waiting, pauses } = fx.waitingStore();
      fx.ddb.on(QueryCommand).resolves({ Items: [] });
      fx.ddb
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
      const { waiting, pauses } = fx.waitingStore();
      fx.ddb.on(PutCommand).resolves({});
      fx.ddb.on(QueryCommand).resolves({ Items: [] });
      fx.ddb
        .on(QueryCommand, { ExpressionAttributeValues: { ':pool': 'acme#acme' } })
        .resolves({ Items: [full[0] as SessionRecord] });

      await expect(waiting.acquire('acme', 'acme', EXECUTION_ARN)).resolves.toEqual(
        expect.objectContaining({ kind: 'miss', waitedMs: 0, sessionsLeased: true }),
      );
      expect(pauses).toEqual([]);
    });
  });
});
