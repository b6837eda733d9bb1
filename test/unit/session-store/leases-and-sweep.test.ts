import {
  DeleteCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { parseExecutionInput } from '../../../functions/common/execution-input.ts';
import {
  INTERNAL_KEY_PREFIXES,
  isInternalItem,
  poolIdOf,
} from '../../../functions/common/table-keys.ts';
import { EXECUTION_ARN, NOW } from '../../support/unit-deps.ts';
import * as fx from './fixtures.ts';

/**
 * SessionStore's writes on a leased session (release, record, renew), the scheduled sweep, the
 * internal items kept apart from the pools, and the stopped marks of execution records.
 */

describe('Class: SessionStore', () => {
  beforeEach(fx.emptyTable);

  describe('Method: release', () => {
    it("returns the session to IDLE with the keep-alive counted from the statement's end", async () => {
      fx.ddb.on(UpdateCommand).resolves({});
      const endedAt = fx.ago(2);

      const released = await fx.store.release(
        { tenantId: 'acme', dbUser: 'acme', sessionId: 's1', createdAt: fx.ago(600) },
        EXECUTION_ARN,
        endedAt,
      );

      expect(released).toBe(true);
      expect(fx.ddb).toReceiveCommandWith(UpdateCommand, {
        ConditionExpression: '#state = :leased AND lease_owner = :owner',
        ExpressionAttributeValues: expect.objectContaining({
          ':idle': 'IDLE',
          ':endedAt': endedAt,
          ':expiresAt': new Date(new Date(endedAt).getTime() + 3600_000).toISOString(),
        }),
      });
    });

    it("never sets the expiry past 24 hours from the session's creation", async () => {
      fx.ddb.on(UpdateCommand).resolves({});
      const createdAt = fx.ago(23.5 * 3600);

      await fx.store.release(
        { tenantId: 'acme', dbUser: 'acme', sessionId: 's1', createdAt },
        EXECUTION_ARN,
      );

      expect(fx.ddb).toReceiveCommandWith(UpdateCommand, {
        ExpressionAttributeValues: expect.objectContaining({ ':expiresAt': fx.ahead(1800) }),
      });
    });

    it("does nothing when the lease is no longer this execution's", async () => {
      fx.ddb.on(UpdateCommand).rejects(fx.conditionFailed());

      await expect(
        fx.store.release(
          { tenantId: 'acme', dbUser: 'acme', sessionId: 's1', createdAt: fx.ago(60) },
          EXECUTION_ARN,
        ),
      ).resolves.toBe(false);
    });
  });

  describe('Method: recordNewSession', () => {
    it('writes the new session leased to its execution, conditionally', async () => {
      fx.ddb.on(PutCommand).resolves({});

      const record = await fx.store.recordNewSession({
        tenantId: 'acme',
        dbUser: 'acme',
        sessionId: 's-new',
        owner: EXECUTION_ARN,
        reservation: { claim: 'c-7', slot: 1, totalSlot: 70, reservedAt: fx.ago(2) },
      });

      expect(record).toEqual(
        expect.objectContaining({
          state: 'LEASED',
          lease_owner: EXECUTION_ARN,
          created_at: NOW.toISOString(),
          expires_at: fx.ahead(3600),
          slot: 1,
          total_slot: 70,
          slot_claim: 'c-7',
        }),
      );
      expect(fx.ddb).toReceiveCommandWith(PutCommand, {
        ConditionExpression: 'attribute_not_exists(session_id) OR lease_owner = :owner',
      });
    });
  });

  describe('Method: renewLease', () => {
    it('extends the lease only while this execution holds it', async () => {
      fx.ddb.on(UpdateCommand).resolvesOnce({}).rejectsOnce(fx.conditionFailed());

      await expect(fx.store.renewLease('acme', 'acme', 's1', EXECUTION_ARN)).resolves.toBe(true);
      await expect(fx.store.renewLease('acme', 'acme', 's1', EXECUTION_ARN)).resolves.toBe(false);
      expect(fx.ddb).toReceiveCommandWith(UpdateCommand, {
        ExpressionAttributeValues: expect.objectContaining({ ':leaseExpires': fx.ahead(300) }),
      });
    });
  });

  describe('Method: cleanupExpiredSessions', () => {
    it('deletes the expired, unleased records and returns how many', async () => {
      fx.ddb.on(ScanCommand).resolves({
        Items: [
          fx.session('fresh'),
          fx.session('expired', { expires_at: fx.ago(1) }),
          fx.session('idle', { last_used_at: fx.ago(1000) }),
          fx.session('running', {
            expires_at: fx.ago(1),
            state: 'LEASED',
            lease_owner: 'x',
            lease_expires_at: fx.ahead(100),
          }),
        ],
      });
      fx.ddb.on(DeleteCommand).resolves({});

      await expect(fx.sweeper.cleanupExpiredSessions()).resolves.toBe(2);
      expect(fx.ddb).toReceiveCommandTimes(DeleteCommand, 2);
    });

    it('deletes the records of executions past their time, and keeps the others', async () => {
      const record = (arn: string, expiresAt: string) => ({
        pool_id: `#execution#${arn}`,
        session_id: 'execution',
        execution_arn: arn,
        updated_at: fx.ago(3600),
        expires_at: expiresAt,
        ttl: 0,
      });
      fx.ddb.on(ScanCommand).resolves({
        Items: [
          record(`${EXECUTION_ARN}-old`, fx.ago(1)),
          record(`${EXECUTION_ARN}-new`, fx.ahead(60)),
        ],
      });
      fx.ddb.on(DeleteCommand).resolves({});

      await expect(fx.sweeper.cleanupExpiredSessions()).resolves.toBe(1);
      expect(fx.ddb).toReceiveCommandWith(DeleteCommand, {
        Key: { pool_id: `#execution#${EXECUTION_ARN}-old`, session_id: 'execution' },
        ConditionExpression: 'expires_at = :seenExpires',
      });
      expect(fx.ddb).toReceiveCommandTimes(DeleteCommand, 1);
    });

    it('frees a lapsed slot that no session of its pool holds, and keeps one a session holds', async () => {
      // Prepare: two lapsed reservations; a session was recorded on the second
      const slot = (number: number, claim: string) => ({
        pool_id: '#slot#acme#acme',
        session_id: String(number),
        claim,
        owner: EXECUTION_ARN,
        pool: 'acme#acme',
        reserved_at: fx.ago(400),
        expires_at: fx.ago(100),
        ttl: 0,
      });
      fx.ddb.on(ScanCommand).resolves({ Items: [slot(0, 'vanished'), slot(1, 'held')] });
      fx.ddb
        .on(QueryCommand)
        .resolves({ Items: [fx.session('s', { slot: 1, total_slot: 1, slot_claim: 'held' })] });
      fx.ddb.on(DeleteCommand).resolves({});

      // Act
      await expect(fx.sweeper.cleanupExpiredSessions()).resolves.toBe(1);

      // Assess
      expect(fx.ddb).toReceiveCommandWith(DeleteCommand, {
        Key: { pool_id: '#slot#acme#acme', session_id: '0' },
        ConditionExpression: 'claim = :claim AND expires_at = :seenExpires',
      });
      expect(fx.ddb).toReceiveCommandTimes(DeleteCommand, 1);
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
        fx.ddb.on(ScanCommand).resolves({
          Items: [
            fx.session('running', {
              pool_id: poolIdOf(word, `tenant_${word}`),
              tenant_id: word,
              db_user: `tenant_${word}`,
              expires_at: fx.ago(1),
              state: 'LEASED',
              lease_owner: EXECUTION_ARN,
              lease_expires_at: fx.ahead(100),
            }),
          ],
        });
        fx.ddb.on(DeleteCommand).resolves({});

        await expect(fx.sweeper.cleanupExpiredSessions()).resolves.toBe(0);
        expect(fx.ddb).toReceiveCommandTimes(DeleteCommand, 0);
      },
    );
  });

  describe('Method: executions.markStopped', () => {
    it("marks the run stopped in the execution's record, for an hour, and returns what the steps wrote", async () => {
      const written = { reservation: { claim: 'c', slot: 0, totalSlot: 0, reservedAt: fx.ago(5) } };
      fx.ddb.on(UpdateCommand).resolves({ Attributes: written });

      await expect(fx.store.executions.markStopped(EXECUTION_ARN, 0)).resolves.toEqual(written);

      expect(fx.ddb).toReceiveCommandWith(UpdateCommand, {
        Key: { pool_id: `#execution#${EXECUTION_ARN}`, session_id: 'execution' },
        ConditionExpression: 'attribute_not_exists(stopped_run) OR stopped_run < :run',
        ExpressionAttributeValues: expect.objectContaining({
          ':run': 0,
          ':expires': fx.ahead(3600),
        }),
        ReturnValues: 'ALL_NEW',
      });
    });
  });
});
