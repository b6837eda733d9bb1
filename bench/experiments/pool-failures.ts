import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ListStatementsCommand } from '@aws-sdk/client-redshift-data';
import { quietInProcessFunctions } from '../../local/quiet-functions.ts';
import { StackApi } from '../chaos/stack-api.ts';
import { startBenchPostgres } from '../postgres.ts';

/**
 * The three failures of the pool under pressure, measured the way they were first seen, on the
 * local stack (PGlite by default, or PostgreSQL with --engine postgres):
 *
 * - a burst: 30 executions of one tenant at once (`select n, pg_sleep(0.3)`) with
 *   SPECTRA_MAX_SESSIONS_PER_TENANT=4, and 20 two-second queries at once: the sessions the
 *   tenant's pool holds afterwards, and the most the Data API had open for it;
 * - a stop 1 s into `insert into t select 1 from pg_sleep(4)`: whether the row was committed;
 * - a stop 3 s into `select pg_sleep(30)`: the statement's status 8 s after the stop, and how
 *   many of the tenant's sessions were open outside the pool.
 *
 * Unlike the tests, this sleeps on the wall clock: it reproduces what a user saw.
 *
 *   npx tsx bench/experiments/pool-failures.ts [--engine pglite|postgres]
 */

const { values } = parseArgs({ options: { engine: { type: 'string', default: 'pglite' } } });
const engine = values.engine;
if (engine !== 'pglite' && engine !== 'postgres')
  throw new Error(`--engine takes pglite or postgres; got "${engine}"`);

process.env.SPECTRA_MAX_SESSIONS_PER_TENANT = '4';
quietInProcessFunctions();
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));
const resultsDir = resolve(fileURLToPath(new URL('../results', import.meta.url)));

const postgres = engine === 'postgres' ? await startBenchPostgres() : undefined;
const { startLocalStack } = await import('../../local/stack.ts');
const { dbUserFor, DEFAULT_DB_USER_TEMPLATE } = await import('../../functions/common/config.ts');
const stack = await startLocalStack({ port: 0, databaseUrl: postgres?.url });
const api = new StackApi(
  stack.url,
  stack.stateMachineArn,
  process.env.SPECTRA_DYNAMODB_SESSIONS_TABLE_NAME as string,
);

async function newTenant(prefix: string) {
  const tenantId = `${prefix}-${randomUUID().slice(0, 6)}`;
  await api.control('db-users', { tenantId });
  return { tenantId, dbUser: dbUserFor(tenantId, DEFAULT_DB_USER_TEMPLATE) };
}
const poolOf = async (tenantId: string) =>
  (await api.sessionRecords()).filter((r) => r.tenant_id === tenantId);
async function sessionsOf(dbUser: string) {
  const all = await api.listSessions();
  const mine = all.filter((s) => s.DbUser === dbUser);
  return {
    opened: mine.length,
    open: mine.filter((s) => s.Status !== 'CLOSED').map((s) => s.SessionId as string),
  };
}

async function burst(count: number, sql: (n: number) => string) {
  const { tenantId, dbUser } = await newTenant('burst');
  const arns = await Promise.all(
    Array.from({ length: count }, (_, n) => api.start(randomUUID(), { tenantId, sql: sql(n) })),
  );
  const ended = await Promise.all(arns.map((arn) => api.waitForEnd(arn, Number.POSITIVE_INFINITY)));
  const outcomes: Record<string, number> = {};
  for (const e of ended) {
    const key = e.status === 'SUCCEEDED' ? 'SUCCEEDED' : (e.error ?? e.status);
    outcomes[key] = (outcomes[key] ?? 0) + 1;
  }
  return {
    executions: count,
    outcomes,
    poolSessions: (await poolOf(tenantId)).length,
    sessionsOpenedForTheTenant: (await sessionsOf(dbUser)).opened,
  };
}

/** Starts `sql`, stops the execution `stopAfterMs` later, and reports what `lookAfterMs` later shows. */
async function stopDuring(sql: string, stopAfterMs: number, lookAfterMs: number) {
  const { tenantId, dbUser } = await newTenant('stop');
  const statementName = `stopped-${randomUUID()}`;
  const table = `stopped_${randomUUID().replaceAll('-', '').slice(0, 10)}`;
  await api.waitForEnd(
    await api.start(randomUUID(), { tenantId, sql: `create table ${table} (n int)` }),
    Number.POSITIVE_INFINITY,
  );
  const executionArn = await api.start(randomUUID(), {
    tenantId,
    statementName,
    sql: sql.replace('<table>', table),
  });
  await sleep(stopAfterMs);
  const stoppedAt = Date.now();
  await api.stop(executionArn, 'measured');
  const cleanedUpMs = Date.now() - stoppedAt;
  await sleep(lookAfterMs);
  const { Statements = [] } = await api.redshiftData.send(
    new ListStatementsCommand({ Status: 'ALL', StatementName: statementName }),
  );
  const pool = new Set((await poolOf(tenantId)).map((r) => r.session_id));
  const { open } = await sessionsOf(dbUser);
  const rows = await api.queryAs(dbUser, `select count(*) from ${table}`);
  return {
    execution: (await api.describe(executionArn)).status,
    statusAfterLook: Statements.map((s) => s.Status),
    cleanUpTookMs: cleanedUpMs,
    rowsCommitted: Number(rows.rows[0]?.[0] ?? 0),
    sessionsOpenOutsideThePool: open.filter((id) => !pool.has(id)).length,
  };
}

try {
  const results = {
    date: new Date().toISOString(),
    engine: postgres ? postgres.detail : 'PGlite, embedded',
    burstOf30: await burst(30, (n) => `select ${n} as n, pg_sleep(0.3)`),
    burstOf20TwoSecondQueries: await burst(20, (n) => `select ${n} as n, pg_sleep(2)`),
    insertStoppedAfter1s: await stopDuring(
      'insert into <table> select 1 from pg_sleep(4)',
      1000,
      6000,
    ),
    sleep30StoppedAfter3s: await stopDuring('select pg_sleep(30)', 3000, 8000),
  };
  console.log(JSON.stringify(results, null, 2));
  await mkdir(resultsDir, { recursive: true });
  await writeFile(
    join(resultsDir, `pool-failures-${engine}.json`),
    `${JSON.stringify(results, null, 2)}\n`,
  );
} finally {
  api.destroy();
  await stack.stop();
  await postgres?.stop();
}
