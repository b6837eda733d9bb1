import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useStackWithApi } from '../support/local-stack.ts';
import {
  holdStatements,
  newTenant,
  openSessionsOf,
  poolOf,
  untilPoolHolds,
  untilQuiet,
  untilStatementsHeld,
} from '../support/pool-checks.ts';

/**
 * The spare session, through the local stack: a query that takes the last idle session of its
 * tenant while another query of the tenant holds one has a spare opened beside its statement, idle
 * in the pool, which the tenant's next query leases; at the cap no spare is opened. The tenant's
 * statements are held until released, so that no session comes back meanwhile.
 */

const PER_TENANT = 4;
process.env.SPECTRA_MAX_SESSIONS_PER_TENANT = String(PER_TENANT);

const { api: stackApi } = useStackWithApi();

type Output = { sessionId?: string | null; sessionReused?: boolean } | undefined;

describe('Reliability: a spare session for the next concurrent query', () => {
  it('opens a spare when a query takes the last idle session beside another, leases it next, and opens none at the cap', async () => {
    // Prepare: two sessions in the tenant's pool, both idle
    const api = stackApi();
    const tenantId = await newTenant(api, 'spare');
    const { marker, hold, release } = await holdStatements(api);
    const start = () => api.start(randomUUID(), { tenantId, sql: `select 1 -- ${marker}` });
    const end = (arns: string[]) =>
      Promise.all(arns.map((arn) => api.waitForEnd(arn, Number.POSITIVE_INFINITY)));
    const warm = await end(
      await Promise.all([start(), start()]).then(async (arns) => {
        await untilStatementsHeld(api, 2);
        await release();
        return arns;
      }),
    );
    await untilQuiet(api);
    expect(warm.map((e) => e.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    const warmPool = await poolOf(api, tenantId);
    expect(warmPool.map((r) => r.state)).toEqual(['IDLE', 'IDLE']);

    // Act: one query leases a session, a second the last idle one beside it (a spare is opened),
    // a third leases the spare (a second spare fills the pool to its cap), a fourth leases that
    await hold();
    const first = await start();
    await untilStatementsHeld(api, 1);
    const second = await start();
    await untilStatementsHeld(api, 2);
    await untilPoolHolds(api, tenantId, 3);
    const withSpare = await poolOf(api, tenantId);
    const third = await start();
    await untilStatementsHeld(api, 3);
    await untilPoolHolds(api, tenantId, PER_TENANT);
    const fourth = await start();
    await untilStatementsHeld(api, 4);
    const atCap = await poolOf(api, tenantId);
    const openAtCap = await openSessionsOf(api, tenantId);
    await release();
    const ended = await end([first, second, third, fourth]);
    await untilQuiet(api);

    // Assess
    expect(ended.map((e) => e.status)).toEqual(ended.map(() => 'SUCCEEDED'));
    const outputs = ended.map((e) => e.output as Output);
    expect(outputs.map((o) => o?.sessionReused)).toEqual([true, true, true, true]);
    const warmIds = warmPool.map((r) => r.session_id);
    const spare = withSpare.find((r) => !warmIds.includes(r.session_id));
    expect(spare).toEqual(expect.objectContaining({ state: 'IDLE' }));
    expect(spare).not.toHaveProperty('lease_owner');
    expect(outputs[2]?.sessionId).toBe(spare?.session_id);
    const secondSpare = atCap.find((r) => ![...warmIds, spare?.session_id].includes(r.session_id));
    expect(outputs[3]?.sessionId).toBe(secondSpare?.session_id);
    expect(atCap.map((r) => r.state)).toEqual(atCap.map(() => 'LEASED'));
    // At the cap the fourth query opened none: the Data API holds what the pool does, no more.
    expect(openAtCap.map((s) => s.SessionId).sort()).toEqual(atCap.map((r) => r.session_id).sort());
    const pool = await poolOf(api, tenantId);
    expect(pool.map((r) => r.session_id).sort()).toEqual(atCap.map((r) => r.session_id).sort());
    expect(pool.filter((r) => r.state === 'LEASED')).toEqual([]);
    const open = await openSessionsOf(api, tenantId);
    expect(open.map((s) => s.SessionId).sort()).toEqual(pool.map((r) => r.session_id).sort());
  });
});
