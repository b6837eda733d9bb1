import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  ActiveSessionsExceededException,
  DescribeStatementCommand,
  ExecuteStatementCommand,
} from '@aws-sdk/client-redshift-data';
import { DeleteCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { openSpareSession } from '../../functions/common/session-spare.ts';
import { SessionStore } from '../../functions/common/session-store.ts';
import { submitQuery } from '../../functions/submit.ts';
import { ddb, pooledSession, redshift } from '../support/mocked-clients.ts';
import { submitEvent } from '../support/query-state.ts';
import { EXECUTION_ARN, NOW, unitDeps } from '../support/unit-deps.ts';
import { documents } from './session-store/fixtures.ts';

/**
 * The spare session: a query that leases the last idle session of a tenant running queries side
 * by side, below the cap, has Submit Query open one more beside its statement, idle in the pool
 * for the tenant's next query; bounded by the slots and by other openings of the tenant.
 */

const OTHER = 'arn:aws:states:us-east-1:000000000000:execution:spectra-query:other';
const CAPS = { SPECTRA_MAX_SESSIONS_PER_TENANT: '4' };
const onSlot = (slot: number) => ({ slot, total_slot: 40 + slot, slot_claim: `c-${slot}` });
const idleOn = (id: string, slot: number) => pooledSession({ session_id: id, ...onSlot(slot) });
const leasedOn = (id: string, slot: number) =>
  pooledSession({
    session_id: id,
    ...onSlot(slot),
    state: 'LEASED',
    lease_owner: OTHER,
    lease_expires_at: '2026-11-28T12:04:00.000Z',
  });
const storeWithCap = (maxSessionsPerTenant: number) =>
  new SessionStore(
    documents,
    'sessions',
    { keepAliveSeconds: 3600, idleTimeoutSeconds: 300, maxSessionsPerTenant },
    () => NOW,
  );
/** The pool's reads answer `items`; every lease of it succeeds. */
function poolHolds(...items: ReturnType<typeof pooledSession>[]) {
  ddb
    .on(QueryCommand, { ExpressionAttributeValues: { ':pool': 'acme#tenant_acme' } })
    .resolves({ Items: items });
  ddb.on(UpdateCommand, { Key: { pool_id: 'acme#tenant_acme' } }).callsFake((input) => ({
    Attributes: { ...pooledSession({ session_id: input.Key.session_id }), state: 'LEASED' },
  }));
}
const acquire = (store: SessionStore, options = {}) =>
  store.acquire('acme', 'tenant_acme', EXECUTION_ARN, options);
const conditionFailed = () =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
const slotPuts = () =>
  ddb
    .commandCalls(PutCommand)
    .map((call) => call.args[0].input.Item as Record<string, unknown>)
    .filter((item) => String(item.pool_id).includes('slot#'));
const request = (heldSlots: { slot: number; claim: string }[]) => ({
  tenantId: 'acme',
  dbUser: 'tenant_acme',
  owner: EXECUTION_ARN,
  heldSlots,
  connection: {
    target: { clusterIdentifier: 'analytics' },
    database: 'dev',
    dbUser: 'tenant_acme',
    secretArn: undefined,
  },
});

describe('Spare sessions', () => {
  describe('when AcquireSession asks for one', () => {
    it('asks when the lease takes the last idle session while another is leased, below the cap', async () => {
      // Prepare
      poolHolds(idleOn('a', 0), leasedOn('b', 1));

      // Act
      const result = await acquire(storeWithCap(4));

      // Assess
      expect(result).toEqual(
        expect.objectContaining({
          kind: 'hit',
          session: expect.objectContaining({ session_id: 'a' }),
          spareWanted: {
            heldSlots: [
              { slot: 0, claim: 'c-0' },
              { slot: 1, claim: 'c-1' },
            ],
          },
        }),
      );
    });

    it.each([
      ['another idle session is left', 4, [idleOn('a', 0), idleOn('c', 2), leasedOn('b', 1)], {}],
      ['no other session is leased (queries one at a time)', 4, [idleOn('a', 0)], {}],
      ['the pool is at its cap', 2, [idleOn('a', 0), leasedOn('b', 1)], {}],
      [
        'the SQL leaves state in its session',
        4,
        [idleOn('a', 0), leasedOn('b', 1)],
        { mayOpen: false },
      ],
    ])('does not ask when %s', async (_case, cap, pool, options) => {
      // Prepare
      poolHolds(...pool);

      // Act
      const result = await acquire(storeWithCap(cap), options);

      // Assess
      expect(result.kind).toBe('hit');
      expect(result).not.toHaveProperty('spareWanted');
    });

    it('leases a session that is ready before a spare still opening, however recently used', async () => {
      // Prepare
      const opening = pooledSession({
        session_id: 'spare',
        last_used_at: '2026-11-28T11:59:59.000Z',
        warmup_statement_id: 'warm-1',
      });
      poolHolds(opening, idleOn('ready', 0));

      // Act
      const result = await acquire(storeWithCap(4));

      // Assess
      expect(result).toEqual(
        expect.objectContaining({ session: expect.objectContaining({ session_id: 'ready' }) }),
      );
    });
  });

  describe('Function: openSpareSession', () => {
    it('reserves a free slot, opens a session with select 1 and records it idle with its opening', async () => {
      // Prepare
      const { deps } = unitDeps(CAPS);
      redshift.on(ExecuteStatementCommand).resolves({ Id: 'warm-1', SessionId: 'spare-1' });

      // Act
      const outcome = await openSpareSession(deps, request([{ slot: 0, claim: 'c-0' }]));

      // Assess
      expect(outcome).toEqual({ kind: 'opened', sessionId: 'spare-1' });
      const [tenantSlot, totalSlot] = slotPuts();
      expect(tenantSlot).toEqual(
        expect.objectContaining({ pool_id: '#slot#acme#tenant_acme', session_id: '1' }),
      );
      expect(totalSlot).toEqual(
        expect.objectContaining({
          pool_id: '#total-slot#cluster/analytics',
          claim: tenantSlot?.claim,
        }),
      );
      expect(redshift).toReceiveCommandWith(ExecuteStatementCommand, {
        Sql: 'select 1',
        ClusterIdentifier: 'analytics',
        DbUser: 'tenant_acme',
        SessionKeepAliveSeconds: deps.config.sessionKeepAliveSeconds,
      });
      expect(ddb).toReceiveCommandWith(PutCommand, {
        Item: expect.objectContaining({
          pool_id: 'acme#tenant_acme',
          session_id: 'spare-1',
          state: 'IDLE',
          slot: 1,
          total_slot: Number(totalSlot?.session_id),
          slot_claim: tenantSlot?.claim,
          warmup_statement_id: 'warm-1',
        }),
        ConditionExpression: 'attribute_not_exists(session_id)',
      });
      const recorded = ddb
        .commandCalls(PutCommand)
        .map((call) => call.args[0].input.Item)
        .find((item) => item?.session_id === 'spare-1');
      expect(recorded).not.toHaveProperty('lease_owner');
    });

    it('opens nothing and gives its slots back while another query of the tenant is opening one', async () => {
      // Prepare: slot 1 is free in the pool's records but taken (another opener's reservation).
      const { deps } = unitDeps(CAPS);
      ddb
        .on(PutCommand, { Item: { pool_id: '#slot#acme#tenant_acme', session_id: '1' } })
        .rejects(conditionFailed());

      // Act
      const outcome = await openSpareSession(deps, request([{ slot: 0, claim: 'c-0' }]));

      // Assess
      expect(outcome).toEqual({ kind: 'skipped', reason: 'others-opening' });
      expect(redshift).not.toReceiveCommand(ExecuteStatementCommand);
      const claim = slotPuts().find((item) => item.session_id === '2')?.claim;
      expect(ddb).toReceiveCommandWith(DeleteCommand, {
        Key: { pool_id: '#slot#acme#tenant_acme', session_id: '2' },
        ExpressionAttributeValues: { ':claim': claim },
      });
    });

    it('opens nothing at the tenant cap', async () => {
      // Prepare
      const { deps } = unitDeps(CAPS);
      const held = [0, 1, 2, 3].map((slot) => ({ slot, claim: `c-${slot}` }));

      // Act
      const outcome = await openSpareSession(deps, request(held));

      // Assess
      expect(outcome).toEqual({ kind: 'skipped', reason: 'tenant-cap' });
      expect(slotPuts()).toEqual([]);
      expect(redshift).not.toReceiveCommand(ExecuteStatementCommand);
    });

    it('gives its slots back when the Data API is at its session limit', async () => {
      // Prepare
      const { deps } = unitDeps(CAPS);
      redshift
        .on(ExecuteStatementCommand)
        .rejects(
          new ActiveSessionsExceededException({ message: 'Too many sessions', $metadata: {} }),
        );

      // Act
      const outcome = await openSpareSession(deps, request([]));

      // Assess
      expect(outcome).toEqual({ kind: 'skipped', reason: 'session-limit' });
      const [tenantSlot, totalSlot] = slotPuts();
      expect(ddb).toReceiveCommandWith(DeleteCommand, {
        Key: { pool_id: '#slot#acme#tenant_acme', session_id: tenantSlot?.session_id },
      });
      expect(ddb).toReceiveCommandWith(DeleteCommand, {
        Key: { pool_id: '#total-slot#cluster/analytics', session_id: totalSlot?.session_id },
      });
      expect(ddb).not.toReceiveCommandWith(PutCommand, {
        Item: expect.objectContaining({ pool_id: 'acme#tenant_acme' }),
      });
    });
  });

  describe('Function: submitQuery, asked for a spare', () => {
    const event = () =>
      submitEvent(
        { tenantId: 'acme', sql: 'select 2' },
        {
          session: {
            sessionId: 'leased-1',
            reused: true,
            createdAt: '2026-11-28T11:00:00.000Z',
            spare: { heldSlots: [{ slot: 0, claim: 'c-0' }] },
          },
        },
      );

    it('sends the statement on the leased session and opens the spare beside it', async () => {
      // Prepare
      const { deps, count } = unitDeps(CAPS);
      redshift.on(ExecuteStatementCommand).resolves({ Id: 'st-1' });
      redshift
        .on(ExecuteStatementCommand, { Sql: 'select 1' })
        .resolves({ Id: 'warm-1', SessionId: 'spare-1' });
      redshift.on(DescribeStatementCommand).resolves({ Id: 'st-1', Status: 'FINISHED' });

      // Act
      const state = await submitQuery(event(), deps);

      // Assess
      expect(redshift).toReceiveCommandWith(ExecuteStatementCommand, {
        Sql: 'select 2',
        SessionId: 'leased-1',
      });
      expect(ddb).toReceiveCommandWith(PutCommand, {
        Item: expect.objectContaining({ session_id: 'spare-1', state: 'IDLE' }),
      });
      expect(state.session).toEqual({
        sessionId: 'leased-1',
        reused: true,
        createdAt: '2026-11-28T11:00:00.000Z',
      });
      expect(state.statement?.status).toBe('FINISHED');
      expect(count('SessionCreated')).toBe(1);
    });

    it('runs the query when the spare cannot be opened', async () => {
      // Prepare
      const { deps } = unitDeps(CAPS);
      redshift.on(ExecuteStatementCommand).resolves({ Id: 'st-1' });
      redshift.on(DescribeStatementCommand).resolves({ Id: 'st-1', Status: 'FINISHED' });
      ddb
        .on(PutCommand, { Item: { pool_id: '#slot#acme#tenant_acme' } })
        .rejects(Object.assign(new Error('service unavailable'), { name: 'InternalServerError' }));

      // Act
      const state = await submitQuery(event(), deps);

      // Assess
      expect(state.statement).toEqual(
        expect.objectContaining({ statementId: 'st-1', status: 'FINISHED' }),
      );
      expect(redshift).not.toReceiveCommandWith(ExecuteStatementCommand, { Sql: 'select 1' });
      expect(deps.telemetry.logger.warn).toHaveBeenCalledWith(
        'Could not open a spare session; the query goes on without one',
        expect.anything(),
      );
    });
  });
});
