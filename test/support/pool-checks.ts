import { randomUUID } from 'node:crypto';
import type { StackApi } from '../../bench/chaos/stack-api.ts';
import { DEFAULT_DB_USER_TEMPLATE, dbUserFor } from '../../functions/common/config.ts';

/**
 * What the reliability tests check of a tenant's pool through the local stack, as a user would:
 * over its HTTP endpoint. Every wait here waits for something to happen, never for time to pass,
 * so a slow machine makes a test slower, never different.
 */

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A new tenant, with its database user created. */
export async function newTenant(api: StackApi, prefix: string): Promise<string> {
  const tenantId = `${prefix}-${randomUUID().slice(0, 8)}`;
  await api.control('db-users', { tenantId });
  return tenantId;
}

/**
 * Holds every statement whose SQL carries a new marker until `release` (see
 * `/_spectra/statements/hold`): `hold` puts the hold in place again after a release.
 */
export async function holdStatements(api: StackApi) {
  const marker = `hold-${randomUUID()}`;
  const hold = () => api.control('statements/hold', { sqlContains: marker });
  const release = () => api.control('statements/release', { sqlContains: marker });
  await hold();
  return { marker, hold, release };
}

/** Waits until the tenant's pool holds `count` sessions. */
export async function untilPoolHolds(api: StackApi, tenantId: string, count: number) {
  while ((await poolOf(api, tenantId)).length < count) await sleep(25);
}

/** Waits until every Lambda invocation has returned, stopped executions' included. */
export async function untilQuiet(api: StackApi): Promise<void> {
  while ((await api.counters()).lambdaInFlight > 0) await sleep(25);
}

/** Waits until the Data API holds `count` statements (see `/_spectra/statements/hold`). */
export async function untilStatementsHeld(api: StackApi, count: number): Promise<void> {
  while ((await api.counters()).redshiftData.statementsHeld < count) await sleep(25);
}

/** Waits until the Data API says the statement ended, and answers how. */
export async function untilStatementEnds(api: StackApi, statementId: string | undefined) {
  for (;;) {
    const status = (await api.listStatements()).find((s) => s.Id === statementId)?.Status;
    if (status === 'FINISHED' || status === 'FAILED' || status === 'ABORTED') return status;
    await sleep(25);
  }
}

/** The tenant's pool as stored. */
export async function poolOf(api: StackApi, tenantId: string) {
  return (await api.sessionRecords()).filter((r) => r.tenant_id === tenantId);
}

/** The Data API sessions of the tenant's database user that are open now. */
export async function openSessionsOf(api: StackApi, tenantId: string) {
  const dbUser = dbUserFor(tenantId, DEFAULT_DB_USER_TEMPLATE);
  const open = [
    ...(await api.sessionsWithStatus('AVAILABLE')),
    ...(await api.sessionsWithStatus('BUSY')),
  ];
  return open.filter((session) => session.DbUser === dbUser);
}
