import { dbUserFor, loadConfig } from '../../functions/common/config.ts';
import type { ExecutionRecord } from './invariants.ts';
import type { Prng } from './prng.ts';
import type { StackApi } from './stack-api.ts';

/**
 * The chaos workload: each job INSERTs a unique id into its tenant's audit table, then SELECTs
 * it in an execution of its own, some after dirtying their sessions first.
 */

/** The tenant's database user, as the functions derive it (read when the run has set the env). */
export const dbUserOf = (tenantId: string) =>
  dbUserFor(tenantId, loadConfig(process.env).dbUserTemplate);
export const auditTableOf = (tenantId: string) => `chaos_audit_${dbUserOf(tenantId)}`;

/** What planning the jobs reads of the run's options. */
export interface PlanOptions {
  seed: number;
  executions: number;
  slowInsertShare: number;
  dirtyShare?: number;
}

export interface Job {
  index: number;
  tenantId: string;
  id: string;
  slow: boolean;
  /** A key of DIRT: what the job runs on its tenant's sessions before its INSERT. */
  dirt?: keyof typeof DIRT;
}

/**
 * What a tenant may do to a session that the next query must not inherit, and what must become
 * of it: settings and temporary tables run (their sessions leave the pool), transaction control
 * is refused, a failing statement fails.
 */
const DIRT = {
  'search-path': 'set search_path to pg_catalog',
  marker: "set chaos.marker = 'dirty'",
  'temp-table': 'create temp table chaos_dirt as select 1 as n',
  batch: ['create temp table chaos_dirt as select 1 as n', "set chaos.marker = 'dirty'"],
  begin: 'begin',
  fail: 'select 1/0',
} as const;
const DIRT_KINDS = Object.keys(DIRT) as (keyof typeof DIRT)[];

/** The plan: which tenant, id and speed each job has. Depends on the seed only. */
export function planJobs(options: PlanOptions, prng: Prng, tenants: string[]): Job[] {
  const jobs = Math.ceil(options.executions / 2);
  return Array.from({ length: jobs }, (_, index) => ({
    index,
    tenantId: prng.pick(tenants),
    id: `s${options.seed}-${String(index).padStart(6, '0')}`,
    slow: prng.next() < options.slowInsertShare,
    dirt: prng.next() < (options.dirtyShare ?? 0) ? prng.pick(DIRT_KINDS) : undefined,
  }));
}

function insertSql(table: string, slow: boolean): string {
  return slow
    ? `insert into ${table} (id, tenant_id) select :id, :tenant from (select pg_sleep(0.2)) as pause`
    : `insert into ${table} (id, tenant_id) values (:id, :tenant)`;
}

/** Runs one execution of a job and waits for its end; one still RUNNING at its timeout is stopped and marked hung. */
export async function runExecution(
  api: StackApi,
  job: Job,
  kind: 'insert' | 'select' | 'dirt',
  timeoutMs: number,
  running: Set<string>,
): Promise<ExecutionRecord> {
  const table = auditTableOf(job.tenantId);
  const name = `${kind === 'insert' ? 'ins' : kind === 'select' ? 'sel' : 'dirt'}-${job.id}`;
  const dirt = job.dirt ? DIRT[job.dirt] : undefined;
  // The SELECT probes its session for what any dirt leaves (the schema is named, so that a
  // dirty search_path shows in the probe rather than failing the query).
  const probe = `select count(*) as copies, current_setting('search_path') as search_path, to_regclass('chaos_dirt') is not null as temp_table, current_setting('chaos.marker', true) as marker from public.${table} where id = :id`;
  const sqlOf =
    kind === 'dirt'
      ? Array.isArray(dirt)
        ? { statements: [...dirt] }
        : { sql: dirt as string }
      : { sql: kind === 'insert' ? insertSql(table, job.slow) : probe };
  const input = {
    tenantId: job.tenantId,
    ...sqlOf,
    parameters:
      kind === 'dirt'
        ? undefined
        : kind === 'insert'
          ? [
              { name: 'id', value: job.id },
              { name: 'tenant', value: job.tenantId },
            ]
          : [{ name: 'id', value: job.id }],
    // The statement carries the execution's name, so that the Data API's own records of
    // statements and sessions can be matched to executions.
    statementName: name,
  };
  const started = Date.now();
  const executionArn = await api.start(name, input);
  running.add(executionArn);
  let ended = await api.waitForEnd(executionArn, started + timeoutMs, 150);
  running.delete(executionArn);
  const hung = ended.status === 'RUNNING';
  if (hung) {
    // Reported, then stopped so that the run ends.
    await api.stop(executionArn, 'chaos: hung past its timeout').catch(() => undefined);
    ended = await api.describe(executionArn);
  }
  return {
    name,
    kind,
    dirt: kind === 'dirt' ? job.dirt : undefined,
    jobIndex: job.index,
    tenantId: job.tenantId,
    id: job.id,
    executionArn,
    status: ended.status,
    error: ended.error,
    cause: ended.cause,
    output: ended.output,
    hung,
    stoppedByChaos: false,
  };
}

/** Reads every id of each tenant's audit table, as the tenant. */
export async function readAuditTables(api: StackApi, tenants: string[]) {
  const rows = new Map<string, string[]>();
  for (const tenantId of tenants) {
    const read = await api.queryAs(dbUserOf(tenantId), `select id from ${auditTableOf(tenantId)}`);
    if (read.status !== 'FINISHED')
      throw new Error(`Reading ${auditTableOf(tenantId)} ended ${read.status}: ${read.error}`);
    rows.set(
      tenantId,
      read.rows.map((row) => String(row[0])),
    );
  }
  return rows;
}
