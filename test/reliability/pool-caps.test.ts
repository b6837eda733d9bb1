import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useStackWithApi } from '../support/local-stack.ts';
import { newTenant, openSessionsOf, poolOf, untilQuiet } from '../support/pool-checks.ts';

/**
 * A tenant's cap under a burst, through the local stack: however its executions interleave, the
 * pool never grows past SPECTRA_MAX_SESSIONS_PER_TENANT, and each execution either runs or fails
 * with SessionPoolExhaustedError (the cluster's cap has a file of its own, pool-total-cap).
 */

const PER_TENANT = 4;
process.env.SPECTRA_MAX_SESSIONS_PER_TENANT = String(PER_TENANT);

const { api: stackApi } = useStackWithApi();

describe("Reliability: a tenant's cap under a burst", () => {
  it(`ends a burst of 30 executions of one tenant with at most ${PER_TENANT} sessions, each execution SUCCEEDED or SessionPoolExhaustedError`, async () => {
    // Prepare
    const api = stackApi();
    const tenantId = await newTenant(api, 'burst');

    // Act: 30 at once
    const arns = await Promise.all(
      Array.from({ length: 30 }, (_, n) =>
        api.start(randomUUID(), { tenantId, sql: `select ${n} as n, pg_sleep(0.3)` }),
      ),
    );
    const ended = await Promise.all(
      arns.map((arn) => api.waitForEnd(arn, Number.POSITIVE_INFINITY)),
    );
    await untilQuiet(api);

    // Assess
    const outcomes = new Set(ended.map((e) => (e.status === 'SUCCEEDED' ? e.status : e.error)));
    expect([...outcomes].filter((o) => o !== 'SessionPoolExhaustedError')).toEqual(['SUCCEEDED']);
    const pool = await poolOf(api, tenantId);
    expect(pool.length).toBeGreaterThan(0);
    expect(pool.length).toBeLessThanOrEqual(PER_TENANT);
    expect(pool.filter((r) => r.state === 'LEASED')).toEqual([]);
    // Never session N+1: the Data API holds no open session of the tenant that the pool does not.
    const open = await openSessionsOf(api, tenantId);
    expect(open.map((s) => s.SessionId).sort()).toEqual(pool.map((r) => r.session_id).sort());
  });
});
