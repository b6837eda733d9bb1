import { dbUserFor, loadConfig } from '../../functions/common/config.ts';
import type { CountersResponse as Counters } from '../../local/test-controls.ts';
import { STATES } from '../../statemachine/definition.ts';
import { BAD_INPUTS, type BadInputResult, runBadInput } from './bad-inputs.ts';
import { FAULT_KINDS, type FaultCount, FaultInjector, type FaultKind } from './faults.ts';
import { checkInvariants, type ExecutionRecord, type Invariants } from './invariants.ts';
import { Prng } from './prng.ts';
import { StackApi } from './stack-api.ts';

/**
 * One chaos run: K executions across T tenants, several at a time, each an INSERT of a unique id
 * into the tenant's audit table followed (as its own execution) by a SELECT of it, while faults
 * are injected at random; then every invariant is checked against what the APIs report.
 */

export interface ChaosOptions {
  seed: number;
  /** Executions to run: half INSERTs, half SELECTs (rounded up to an even number). */
  executions: number;
  tenants: number;
  /** Jobs (an INSERT then its SELECT) running at once. */
  concurrency: number;
  /** The Data API's cap on open sessions: low, so that ActiveSessionsExceededException happens. */
  maxDataApiSessions: number;
  /** Milliseconds between faults, drawn uniformly. */
  faultIntervalMs: [number, number];
  /** Share of INSERTs that sleep first, so that sessions are busy long enough to be hit. */
  slowInsertShare: number;
  /** Share of jobs that first run an execution that dirties its session (see DIRT). */
  dirtyShare?: number;
  /** An execution still RUNNING this long after it started has hung. */
  executionTimeoutMs: number;
  /** Run the bad-input catalogue first and include it in the report. */
  badInputs: boolean;
  /** A PostgreSQL URL for the Data API emulator's engine; default: embedded PGlite. */
  databaseUrl?: string;
  /** Progress lines; default silent. */
  log?: (line: string) => void;
}

export interface ChaosReport {
  seed: number;
  executions: number;
  startedAt: string;
  durationSeconds: number;
  config: {
    tenants: number;
    concurrency: number;
    maxDataApiSessions: number;
    engine: string;
    faultIntervalMs: [number, number];
    slowInsertShare: number;
    dirtyShare: number;
    executionTimeoutSeconds: number;
  };
  outcomes: {
    SUCCEEDED: number;
    FAILED: number;
    ABORTED: number;
    TIMED_OUT: number;
    hung: number;
    failedBy: Record<string, number>;
    byKind: Record<ExecutionRecord['kind'], Record<string, number>>;
  };
  faults: Record<FaultKind, FaultCount>;
  /** What the run saw that is expected under chaos, for reading the invariants' counts. */
  observed: {
    staleSessionRecoveries: number;
    sessionsOpened: number;
    statementsSubmitted: number;
    lambdaInvocations: Record<string, number>;
  };
  invariants: Invariants;
  badInputs?: { cases: number; refused: number; failures: BadInputResult[] };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** The tenant's database user, as the functions derive it (read when the run has set the env). */
const dbUserOf = (tenantId: string) => dbUserFor(tenantId, loadConfig(process.env).dbUserTemplate);
export const auditTableOf = (tenantId: string) => `chaos_audit_${dbUserOf(tenantId)}`;

interface Job {
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
function planJobs(options: ChaosOptions, prng: Prng, tenants: string[]): Job[] {
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

function delta(after: Record<string, number>, before: Record<string, number>, key: string) {
  return (after[key] ?? 0) - (before[key] ?? 0);
}

/** Environment the in-process functions read when the stack loads them. */
function configureFunctions(): void {
  // Short server-side waits: a run has hundreds of executions, and a long-poll only changes how
  // long a step holds its request, not what happens.
  process.env.SPECTRA_SUBMIT_WAIT_SECONDS ??= '1';
  process.env.SPECTRA_POLL_WAIT_SECONDS ??= '1';
  // Caps low enough that the run meets them: a few tenants, a few jobs each.
  process.env.SPECTRA_MAX_SESSIONS_PER_TENANT ??= '3';
  process.env.SPECTRA_MAX_SESSIONS_TOTAL ??= '6';
  process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}

/**
 * Reads the sessions table over and over until stopped, and keeps the largest pool and the most
 * sessions of every pool together that any read found: the caps must hold at every instant, not
 * only once the run is over.
 */
function samplePools(api: StackApi) {
  const seen = { samples: 0, largestPool: 0, largestPoolId: '', largestTotal: 0 };
  let running = true;
  const loop = (async () => {
    while (running) {
      const records = await api.sessionRecords().catch(() => undefined);
      if (records) {
        seen.samples++;
        const sizes = new Map<string, number>();
        for (const record of records)
          sizes.set(record.pool_id, (sizes.get(record.pool_id) ?? 0) + 1);
        for (const [poolId, size] of sizes)
          if (size > seen.largestPool)
            Object.assign(seen, { largestPool: size, largestPoolId: poolId });
        seen.largestTotal = Math.max(seen.largestTotal, records.length);
      }
      await sleep(50);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return seen;
    },
  };
}

/** Reads every id of each tenant's audit table, as the tenant. */
async function readAuditTables(api: StackApi, tenants: string[]) {
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

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const log = options.log ?? (() => undefined);
  const startedAt = new Date();
  configureFunctions();
  const { startLocalStack } = await import('../../local/stack.ts');
  const ownStack = await startLocalStack({
    port: 0,
    maxDataApiSessions: options.maxDataApiSessions,
    waitTimeOverrides: { [STATES.waitForQuery]: 0 },
    databaseUrl: options.databaseUrl,
  });
  const api = new StackApi(
    ownStack.url,
    ownStack.stateMachineArn,
    process.env.SPECTRA_DYNAMODB_SESSIONS_TABLE_NAME as string,
  );
  try {
    const root = new Prng(options.seed);
    const tenants = Array.from({ length: options.tenants }, (_, i) => `chaos-t${i}`);
    const jobs = planJobs(options, root.fork('jobs'), tenants);

    // Bad input first, on a quiet stack: its checks count calls per case.
    let badInputs: ChaosReport['badInputs'];
    if (options.badInputs) {
      log(`bad input: ${BAD_INPUTS.length} cases`);
      const results: BadInputResult[] = [];
      for (const [index, badInput] of BAD_INPUTS.entries())
        results.push(await runBadInput(api, badInput, `bad-s${options.seed}-${index}`));
      const failures = results.filter((r) => !r.holds);
      badInputs = { cases: results.length, refused: results.length - failures.length, failures };
    }

    // Each tenant's database user and audit table, made through Spectra before any fault. No
    // primary key: a duplicate must show up as a second row, not be refused.
    log(`setup: database users and audit tables for ${tenants.length} tenants`);
    for (const tenantId of tenants) {
      await api.control('db-users', { tenantId });
      const arn = await api.start(`setup-s${options.seed}-${tenantId}`, {
        tenantId,
        sql: `create table if not exists ${auditTableOf(tenantId)} (id varchar(64) not null, tenant_id varchar(63) not null)`,
      });
      const ended = await api.waitForEnd(arn, Date.now() + 60_000);
      if (ended.status !== 'SUCCEEDED')
        throw new Error(
          `Creating the audit table of ${tenantId} ended ${ended.status}: ${ended.error}`,
        );
    }

    const before = await api.counters();
    const records: ExecutionRecord[] = [];
    const running = new Set<string>();
    const injector = new FaultInjector(api, root.fork('faults'), {
      intervalMs: options.faultIntervalMs,
      running: () => [...running],
    });

    async function execute(job: Job, kind: 'insert' | 'select' | 'dirt'): Promise<ExecutionRecord> {
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
      let ended = await api.waitForEnd(executionArn, started + options.executionTimeoutMs, 150);
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

    log(`chaos: ${jobs.length * 2} executions, ${options.concurrency} jobs at a time`);
    const sampler = samplePools(api);
    injector.start();
    let next = 0;
    let done = 0;
    const progressEvery = Math.max(1, Math.floor(jobs.length / 10));
    await Promise.all(
      Array.from({ length: options.concurrency }, async () => {
        for (;;) {
          const job = jobs[next++];
          if (!job) return;
          if (job.dirt) records.push(await execute(job, 'dirt'));
          records.push(await execute(job, 'insert'));
          records.push(await execute(job, 'select'));
          done++;
          if (done % progressEvery === 0) log(`  ${done}/${jobs.length} jobs`);
        }
      }),
    );
    await injector.stop();
    for (const record of records) record.stoppedByChaos = injector.stopped.has(record.executionArn);
    const poolSamples = await sampler.stop();

    // Faults still armed would hit the checks' own calls; the counts are read first.
    const afterRun = await api.counters();
    await api.control('reset');

    // Handlers of stopped executions keep running (as on AWS); the end state is read once
    // every one has returned and no statement runs.
    log('settling: waiting for in-flight functions and statements');
    const settleDeadline = Date.now() + 60_000;
    let lambdasStillRunning = 0;
    for (;;) {
      const counters = await api.counters();
      const busy = await api.sessionsWithStatus('BUSY');
      lambdasStillRunning = counters.lambdaInFlight ?? 0;
      if ((lambdasStillRunning === 0 && busy.length === 0) || Date.now() > settleDeadline) break;
      await sleep(200);
    }

    // Every session closes before the audit tables are read, as keep-alives running out would: a
    // write that an open transaction on a session held would be gone now.
    const stillOpen = [
      ...(await api.sessionsWithStatus('AVAILABLE')),
      ...(await api.sessionsWithStatus('BUSY')),
    ];
    for (const session of stillOpen)
      await api.control('sessions/expire', { sessionId: session.SessionId });

    log('checking invariants');
    // Statements are listed before the audit tables are read: reading runs statements, and a list
    // paged while it grows can show one statement twice.
    const [statements, sessions, sessionRecords] = await Promise.all([
      api.listStatements(),
      api.listSessions(),
      api.sessionRecords(),
    ]);
    const auditRows = await readAuditTables(api, tenants);
    const end = await api.counters();
    const invariants = checkInvariants({
      records,
      statements,
      sessions,
      sessionRecords,
      auditRows,
      dbUserOf,
      now: new Date(),
      busyRejections: end.redshiftData.busyRejections - before.redshiftData.busyRejections,
      expiredByChaos: injector.expiredSessions,
      lambdasStillRunning,
      sessionsClosedBeforeRead: stillOpen.length,
      openAtEnd: stillOpen.map((session) => session.SessionId as string),
      poolSamples,
      caps: {
        perTenant: Number(process.env.SPECTRA_MAX_SESSIONS_PER_TENANT),
        total: Number(process.env.SPECTRA_MAX_SESSIONS_TOTAL),
      },
      badInputs,
    });

    const faults = { ...injector.counts } as Record<FaultKind, FaultCount>;
    for (const kind of FAULT_KINDS) {
      // Armed faults count as injected when a call met them (the endpoint's own count).
      if (
        kind.startsWith('data-api-') ||
        kind.startsWith('dynamodb-') ||
        kind === 'submit-response-lost'
      ) {
        faults[kind].injected = injectedOf(kind, afterRun, before);
      }
    }
    const limit = (c: Counters) => c.redshiftData.sessionLimitRejections ?? 0;
    const limited = limit(afterRun) - limit(before);
    faults['session-limit'] = { armed: 0, injected: limited };

    const count = (filter: (r: ExecutionRecord) => boolean) => records.filter(filter).length;
    const byKind = (kind: ExecutionRecord['kind']) => {
      const tally: Record<string, number> = {};
      for (const r of records.filter((r) => r.kind === kind))
        tally[r.status] = (tally[r.status] ?? 0) + 1;
      return tally;
    };
    const failedBy: Record<string, number> = {};
    for (const r of records.filter((r) => r.status === 'FAILED'))
      failedBy[r.error ?? '(none)'] = (failedBy[r.error ?? '(none)'] ?? 0) + 1;

    return {
      seed: options.seed,
      executions: records.length,
      startedAt: startedAt.toISOString(),
      durationSeconds: Math.round((Date.now() - startedAt.getTime()) / 100) / 10,
      config: {
        tenants: options.tenants,
        concurrency: options.concurrency,
        maxDataApiSessions: options.maxDataApiSessions,
        engine: ownStack.engineKind,
        faultIntervalMs: options.faultIntervalMs,
        slowInsertShare: options.slowInsertShare,
        dirtyShare: options.dirtyShare ?? 0,
        executionTimeoutSeconds: options.executionTimeoutMs / 1000,
      },
      outcomes: {
        SUCCEEDED: count((r) => r.status === 'SUCCEEDED'),
        FAILED: count((r) => r.status === 'FAILED'),
        ABORTED: count((r) => r.status === 'ABORTED'),
        TIMED_OUT: count((r) => r.status === 'TIMED_OUT'),
        hung: count((r) => r.hung),
        failedBy,
        byKind: { insert: byKind('insert'), select: byKind('select'), dirt: byKind('dirt') },
      },
      faults,
      observed: {
        staleSessionRecoveries: delta(
          afterRun.lambdaInvocations,
          before.lambdaInvocations,
          'InvalidateSession',
        ),
        sessionsOpened: afterRun.redshiftData.sessionsOpened - before.redshiftData.sessionsOpened,
        statementsSubmitted:
          afterRun.redshiftData.statementsSubmitted - before.redshiftData.statementsSubmitted,
        lambdaInvocations: Object.fromEntries(
          Object.keys(afterRun.lambdaInvocations).map((fn) => [
            fn,
            delta(afterRun.lambdaInvocations, before.lambdaInvocations, fn),
          ]),
        ),
      },
      invariants,
      badInputs,
    };
  } finally {
    api.destroy();
    await ownStack.stop();
  }
}

const FAULT_ERRORS: Partial<Record<FaultKind, string>> = {
  'data-api-throttling': 'ThrottlingException',
  'data-api-internal-error': 'InternalServerException',
  'dynamodb-throughput-exceeded': 'ProvisionedThroughputExceededException',
  'dynamodb-internal-error': 'InternalServerError',
  'submit-response-lost': 'Lambda.ServiceException',
};

/** How many calls met a fault of this kind, from the endpoint's `target:error` counts. */
function injectedOf(kind: FaultKind, after: Counters, before: Counters): number {
  const error = FAULT_ERRORS[kind];
  const prefix =
    kind === 'submit-response-lost'
      ? 'Lambda.'
      : kind.startsWith('dynamodb-')
        ? 'DynamoDB_20120810.'
        : 'RedshiftData.';
  return Object.keys(after.faultsInjected)
    .filter((key) => key.startsWith(prefix) && key.endsWith(`:${error}`))
    .reduce((sum, key) => sum + delta(after.faultsInjected, before.faultsInjected, key), 0);
}
