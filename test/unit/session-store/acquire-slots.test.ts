import { DeleteCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import type { SessionRecord } from '../../../functions/common/session-record.ts';
import { SessionStore } from '../../../functions/common/session-store.ts';
import { EXECUTION_ARN, NOW } from '../../support/unit-deps.ts';
import {
  ago,
  ahead,
  conditionFailed,
  ddb,
  documents,
  freeSlotsAndRecord,
  leasedTo,
  policy,
  poolHolds,
  session,
  store,
  tenantSlotsHold,
  waitingStore,
} from './fixtures.ts';

/**
 * SessionStore.acquire reserving the slots of a new session: the tenant's and the cluster's caps,
 * openers that vanished, and the wait at the tenant's cap for a session to come back.
 */

describe('Class: SessionStore', () => {
  beforeEach(() => {
    ddb.reset();
  });

  describe('Method: acquire, reserving slots', () => {
    beforeEach(freeSlotsAndRecord);

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
  });

  describe('Method: acquire, at the cap with a wait for a session to come back', () => {
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
});
