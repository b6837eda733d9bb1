import { randomUUID } from 'node:crypto';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionStore } from '../../functions/common/session-store.ts';
import { SessionSweeper } from '../../functions/common/session-sweeper.ts';
import { startDynamoDb } from '../support/dynamodb.ts';

/**
 * The slots on a real DynamoDB (dynalite): however many executions miss at once, the reservations
 * never exceed the caps, and a slot comes back once its session leaves the pool.
 */

const TABLE = 'spectra-sessions-slots';
let dynamo: Awaited<ReturnType<typeof startDynamoDb>>;
let documents: DynamoDBDocumentClient;

beforeAll(async () => {
  dynamo = await startDynamoDb(TABLE);
  documents = DynamoDBDocumentClient.from(dynamo.client);
});

afterAll(async () => {
  await dynamo?.close();
});

const storeWith = (caps: { perTenant: number; total: number }) =>
  new SessionStore(documents, TABLE, {
    keepAliveSeconds: 3600,
    idleTimeoutSeconds: 300,
    maxSessionsPerTenant: caps.perTenant,
    maxSessionsTotal: caps.total,
    target: `cluster/${randomUUID()}`,
  });

const execution = () =>
  `arn:aws:states:us-east-1:000000000000:execution:spectra-query:${randomUUID()}`;

describe('SessionStore slots on DynamoDB', () => {
  it("reserves at most the tenant's cap when 20 executions of it miss at once", async () => {
    // Prepare
    const store = storeWith({ perTenant: 4, total: 100 });
    const tenant = `t-${randomUUID().slice(0, 8)}`;

    // Act
    const outcomes = await Promise.allSettled(
      Array.from({ length: 20 }, () => store.acquire(tenant, `tenant_${tenant}`, execution())),
    );

    // Assess: 4 reservations, on 4 different slots; the others fail at the cap
    const reserved = outcomes.flatMap((o) =>
      o.status === 'fulfilled' && o.value.kind === 'miss' && o.value.reservation
        ? [o.value.reservation]
        : [],
    );
    expect(reserved.map((r) => r.slot).sort()).toEqual([0, 1, 2, 3]);
    const failures = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason.name] : []));
    expect(failures).toEqual(Array.from({ length: 16 }, () => 'SessionPoolExhaustedError'));
  });

  it('reserves at most the total over every tenant, and past it reports the cap without a reservation', async () => {
    // Prepare
    const store = storeWith({ perTenant: 4, total: 5 });
    const tenants = Array.from({ length: 10 }, () => `t-${randomUUID().slice(0, 8)}`);

    // Act
    const outcomes = await Promise.all(
      tenants.map((tenant) => store.acquire(tenant, `tenant_${tenant}`, execution())),
    );

    // Assess
    const reserved = outcomes.filter((o) => o.kind === 'miss' && o.reservation);
    const atTotal = outcomes.filter((o) => o.kind === 'miss' && o.atTotalCap);
    expect(reserved).toHaveLength(5);
    expect(atTotal).toHaveLength(5);
    expect(
      new Set(reserved.map((o) => (o.kind === 'miss' ? o.reservation?.totalSlot : -1))).size,
    ).toBe(5);
  });

  it('gives a slot back when its session is invalidated, so that the next miss reserves it', async () => {
    // Prepare: the tenant's one slot, held by a recorded session
    const store = storeWith({ perTenant: 1, total: 10 });
    const tenant = `t-${randomUUID().slice(0, 8)}`;
    const dbUser = `tenant_${tenant}`;
    const owner = execution();
    const first = await store.acquire(tenant, dbUser, owner);
    if (first.kind !== 'miss' || !first.reservation) throw new Error('expected a reservation');
    await store.recordNewSession({
      tenantId: tenant,
      dbUser,
      sessionId: 'session-1',
      owner,
      reservation: first.reservation,
    });
    await expect(store.acquire(tenant, dbUser, execution())).rejects.toMatchObject({
      name: 'SessionPoolExhaustedError',
    });

    // Act
    await store.invalidate(tenant, dbUser, 'session-1', owner);
    const next = await store.acquire(tenant, dbUser, execution());

    // Assess
    expect(next).toEqual(
      expect.objectContaining({ kind: 'miss', reservation: expect.objectContaining({ slot: 0 }) }),
    );
  });

  it('frees the slots of an opener that vanished once they lapse, and keeps those a session holds', async () => {
    // Prepare: two reservations of one tenant; a session is recorded on the second only
    let now = new Date('2026-12-01T12:00:00.000Z');
    const target = `cluster/${randomUUID()}`;
    const policy = {
      keepAliveSeconds: 86_400,
      idleTimeoutSeconds: 86_400,
      maxSessionsPerTenant: 2,
      maxSessionsTotal: 10,
      target,
    };
    const store = new SessionStore(documents, TABLE, policy, () => now);
    const sweeper = new SessionSweeper(documents, TABLE, policy, () => now);
    const tenant = `t-${randomUUID().slice(0, 8)}`;
    const dbUser = `tenant_${tenant}`;
    const vanished = await store.acquire(tenant, dbUser, execution());
    const owner = execution();
    const kept = await store.acquire(tenant, dbUser, owner);
    if (kept.kind !== 'miss' || !kept.reservation || vanished.kind !== 'miss')
      throw new Error('expected two reservations');
    await store.recordNewSession({
      tenantId: tenant,
      dbUser,
      sessionId: 'session-kept',
      owner,
      reservation: kept.reservation,
    });
    await store.release(
      { tenantId: tenant, dbUser, sessionId: 'session-kept', createdAt: now.toISOString() },
      owner,
    );

    // Act: ten minutes on, past the reservations' five
    now = new Date(now.getTime() + 10 * 60_000);
    await sweeper.cleanupExpiredSessions();
    const another = await store.acquire(tenant, dbUser, execution());

    // Assess: the vanished opener's slot is free again; the session is leased, its slot kept
    expect(another.kind).toBe('hit');
    const third = await store.acquire(tenant, dbUser, execution());
    expect(third).toEqual(
      expect.objectContaining({
        kind: 'miss',
        reservation: expect.objectContaining({ slot: vanished.reservation?.slot }),
      }),
    );
  });
});
