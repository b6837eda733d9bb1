import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useStackWithApi } from '../support/local-stack.ts';
import {
  holdStatements,
  newTenant,
  openSessionsOf,
  poolOf,
  untilQuiet,
  untilStatementsHeld,
} from '../support/pool-checks.ts';

/**
 * The cap on every tenant's pool together (SPECTRA_MAX_SESSIONS_TOTAL), through the local stack.
 * A stack of its own: the cap counts every pool of the cluster, so no other test's sessions may
 * be in it.
 */

const PER_TENANT = 4;
const TOTAL = 6;
process.env.SPECTRA_MAX_SESSIONS_PER_TENANT = String(PER_TENANT);
process.env.SPECTRA_MAX_SESSIONS_TOTAL = String(TOTAL);

const { api: stackApi } = useStackWithApi();

describe("Reliability: the cluster's cap over every pool", () => {
  it(`holds SPECTRA_MAX_SESSIONS_TOTAL (${TOTAL}) over two tenants' pools: past it, queries run without a session`, async () => {
    // Prepare: statements held until released, so that no session comes back meanwhile
    const api = stackApi();
    const [first, second] = [await newTenant(api, 'total'), await newTenant(api, 'total')];
    const { marker, release } = await holdStatements(api);
    const start = (tenantId: string) =>
      Promise.all(
        Array.from({ length: PER_TENANT }, () =>
          api.start(randomUUID(), { tenantId, sql: `select 1 -- ${marker}` }),
        ),
      );

    // Act: the first tenant opens its whole pool, 4 sessions; the second finds 2 slots of the
    // cluster left, and its other 2 queries run without a session
    const firstArns = await start(first);
    await untilStatementsHeld(api, PER_TENANT);
    const secondArns = await start(second);
    await untilStatementsHeld(api, 2 * PER_TENANT);
    await release();
    const ended = await Promise.all(
      [...firstArns, ...secondArns].map((arn) => api.waitForEnd(arn, Number.POSITIVE_INFINITY)),
    );
    await untilQuiet(api);

    // Assess
    expect(ended.map((e) => e.status)).toEqual(ended.map(() => 'SUCCEEDED'));
    expect(await poolOf(api, first)).toHaveLength(PER_TENANT);
    expect(await poolOf(api, second)).toHaveLength(TOTAL - PER_TENANT);
    const ranWithoutSession = ended.filter(
      (e) => (e.output as { sessionId?: unknown } | undefined)?.sessionId === null,
    );
    expect(ranWithoutSession).toHaveLength(2 * PER_TENANT - TOTAL);
    const open = [...(await openSessionsOf(api, first)), ...(await openSessionsOf(api, second))];
    expect(open).toHaveLength(TOTAL);
  });
});
