import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { StackApi } from '../../bench/chaos/stack-api.ts';
import { holdKey } from '../../local/faults.ts';
import { IMMEDIATE_RETRIES, useStackWithApi } from '../support/local-stack.ts';
import { newTenant, openSessionsOf, poolOf, untilQuiet } from '../support/pool-checks.ts';

/**
 * A stopped execution's Submit Query goes on beside its clean-up (Step Functions does not stop a
 * running Lambda), and both may deal with the session the submission opened. Whatever order their
 * writes land in, the session must never be in the pool on slots that were given back: the
 * tenant's cap counts the pool, and a slot given back is another query's to open a session on.
 *
 * Here the session's record is written late (its PutItem held), after a clean-up that cannot
 * cancel the statement (its CancelStatement refused) and so must not hand the session on, and
 * after another query of the tenant has asked for a session. Cap 1: a second record is over it.
 */

process.env.SPECTRA_MAX_SESSIONS_PER_TENANT = '1';
// The second query decides at once, and retries at once, so that the test never waits for a
// wait or a backoff to run out.
process.env.SPECTRA_ACQUIRE_WAIT_MILLISECONDS = '0';
process.env.SPECTRA_SUBMIT_WAIT_SECONDS = '1';

const { api: stackApi } = useStackWithApi({ retryIntervalOverrides: IMMEDIATE_RETRIES });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const PUT_ITEM = 'DynamoDB_20120810.PutItem';

async function until(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await sleep(10);
}

const heldNow = async (api: StackApi, key: string) => ((await api.counters()).held[key] ?? 0) > 0;

describe('Reliability: a stopped submission and the tenant cap', () => {
  it('never pools the session a stopped Submit Query records late on slots its clean-up gave back', async () => {
    // Prepare: the query's statement is held by the Data API, so that the stop lands while it
    // runs; Submit Query is held until the hold on its session's record is in place
    const api = stackApi();
    const tenantId = await newTenant(api, 'stopcap');
    const marker = `hold-${randomUUID()}`;
    await api.control('statements/hold', { sqlContains: marker });
    await api.control('holds', { target: 'Lambda.SubmitQuery' });
    const stopped = await api.start(randomUUID(), { tenantId, sql: `select '${marker}' as m` });
    await until(() => heldNow(api, 'Lambda.SubmitQuery'));
    await api.control('holds', { target: PUT_ITEM });
    await api.control('holds/release', { target: 'Lambda.SubmitQuery' });
    await until(() => heldNow(api, holdKey(PUT_ITEM)));

    // Act: the stop, whose clean-up cannot cancel the statement; then another query of the
    // tenant; then the held record is written
    await api.control('faults', {
      target: 'RedshiftData.CancelStatement',
      error: 'ValidationException',
      count: 1,
    });
    await api.stop(stopped, 'test');
    const other = await api.start(randomUUID(), { tenantId, sql: 'select 1' });
    const otherEnded = await api.waitForEnd(other, Number.POSITIVE_INFINITY);
    await api.control('holds/release', { target: PUT_ITEM });
    await untilQuiet(api);
    await api.control('statements/release', { sqlContains: marker });
    await untilQuiet(api);

    // Assess: the other query ran on the slot or was refused at the cap; the pool holds at most
    // one session, leased to nobody, each on a slot that carries its claim
    expect((await api.describe(stopped)).status).toBe('ABORTED');
    expect(['SUCCEEDED', 'SessionPoolExhaustedError']).toContain(
      otherEnded.status === 'SUCCEEDED' ? otherEnded.status : otherEnded.error,
    );
    const pool = await poolOf(api, tenantId);
    expect(pool.length).toBeLessThanOrEqual(1);
    expect(pool.filter((r) => r.state === 'LEASED')).toEqual([]);
    const slots = (await api.tableItems()).filter((item) =>
      item.pool_id.startsWith(`#slot#${tenantId}#`),
    );
    expect(slots.map((slot) => slot.claim).sort()).toEqual(pool.map((r) => r.slot_claim).sort());
    const open = await openSessionsOf(api, tenantId);
    expect(open.map((s) => s.SessionId).sort()).toEqual(pool.map((r) => r.session_id).sort());
  }, 60_000);
});
