import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { OPENING_SQL } from '../../functions/common/session-race.ts';
import { useStackWithApi } from '../support/local-stack.ts';
import {
  holdStatements,
  newTenant,
  openSessionsOf,
  poolOf,
  untilQuiet,
  untilStatementEnds,
  untilStatementsHeld,
} from '../support/pool-checks.ts';

/**
 * The race of a query whose tenant has every session leased, through the local stack: the session
 * given back first runs its statement while the session it opened meanwhile is still opening (its
 * `select 1` is held until released), and that one joins the pool idle. Nothing is left leased,
 * and the Data API holds the sessions the pool does.
 */

const { api: stackApi } = useStackWithApi();

type Output = { sessionId?: string | null; sessionReused?: boolean } | undefined;

describe('Reliability: a session given back during a race', () => {
  it('runs the statement on the session given back before the new one is open, and the new one joins the pool idle', async () => {
    // Prepare: one session in the tenant's pool, idle
    const api = stackApi();
    const tenantId = await newTenant(api, 'race');
    const { marker, hold, release } = await holdStatements(api);
    const start = () => api.start(randomUUID(), { tenantId, sql: `select 2 -- ${marker}` });
    const end = (arn: string) => api.waitForEnd(arn, Number.POSITIVE_INFINITY);
    const warming = await start();
    await untilStatementsHeld(api, 1);
    await release();
    expect((await end(warming)).status).toBe('SUCCEEDED');
    await untilQuiet(api);
    const [warm] = await poolOf(api, tenantId);
    expect(warm?.state).toBe('IDLE');

    // Act: a first query leases the session; a second finds it leased and opens one, whose
    // `select 1` is held; then the first query's statement is released, and its session given back
    const openings = { sqlContains: OPENING_SQL };
    await api.control('statements/hold', openings);
    await hold();
    const first = await start();
    await untilStatementsHeld(api, 1);
    const second = await start();
    await untilStatementsHeld(api, 2);
    await release();
    const ended = [await end(first), await end(second)];
    await untilQuiet(api);
    const whileOpening = await poolOf(api, tenantId);
    await api.control('statements/release', openings);
    const opening = whileOpening.find((r) => r.session_id !== warm?.session_id);
    const openingEnded = await untilStatementEnds(api, opening?.warmup_statement_id);

    // Assess
    expect(ended.map((e) => e.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    const outputs = ended.map((e) => e.output as Output);
    expect(outputs.map((o) => o?.sessionId)).toEqual([warm?.session_id, warm?.session_id]);
    expect(outputs[1]?.sessionReused).toBe(true);
    const opened = opening;
    expect(openingEnded).toBe('FINISHED');
    expect(opened).toEqual(
      expect.objectContaining({ state: 'IDLE', warmup_statement_id: expect.any(String) }),
    );
    expect(opened).not.toHaveProperty('lease_owner');
    expect(whileOpening.filter((r) => r.state === 'LEASED')).toEqual([]);
    const open = await openSessionsOf(api, tenantId);
    expect(open.map((s) => s.SessionId).sort()).toEqual(
      whileOpening.map((r) => r.session_id).sort(),
    );
  });
});
