import { setTimeout as sleep } from 'node:timers/promises';
import { TERMINAL_STATUSES } from '../../functions/common/polling.ts';
import type { StatementStatus } from '../../functions/common/workflow-state.ts';
import { quietInProcessFunctions } from '../../local/quiet-functions.ts';
import { STATES } from '../../statemachine/definition.ts';
import { BAD_INPUTS, type BadInputResult, runBadInput } from './bad-inputs.ts';
import { type FaultCount, FaultInjector, type FaultKind } from './faults.ts';
import { checkInvariants, type ExecutionRecord, type Invariants } from './invariants.ts';
import { samplePools } from './pool-sampler.ts';
import { Prng } from './prng.ts';
import { StackApi } from './stack-api.ts';
import { faultsOf, observedOf, outcomesOf } from './tally.ts';
import {
  auditTableOf,
  dbUserOf,
  type Job,
  planJobs,
  readAuditTables,
  runExecution,
} from './workload.ts';

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

/** Environment the in-process functions read when the stack loads them. */
function configureFunctions(): void {
  // Short server-side waits: a run has hundreds of executions, and a long-poll only changes how
  // long a step holds its request, not what happens.
  process.env.SPECTRA_SUBMIT_WAIT_SECONDS ??= '1';
  process.env.SPECTRA_POLL_WAIT_SECONDS ??= '1';
  // Caps low enough that the run meets them: a few tenants, a few jobs each.
  process.env.SPECTRA_MAX_SESSIONS_PER_TENANT ??= '3';
  process.env.SPECTRA_MAX_SESSIONS_TOTAL ??= '6';
  quietInProcessFunctions();
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

    const execute = (job: Job, kind: 'insert' | 'select' | 'dirt') =>
      runExecution(api, job, kind, options.executionTimeoutMs, running);

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
    // A statement outlives its session's close while its COMMIT is under way (it ends FINISHED),
    // and one without a session shows in no session's status: the list waits for their ends, or
    // it would show STARTED a statement whose row the audit tables then hold.
    const endDeadline = Date.now() + 30_000;
    while (Date.now() <= endDeadline) {
      const statements = await api.listStatements();
      if (statements.every((s) => TERMINAL_STATUSES.has(s.Status as StatementStatus))) break;
      await sleep(200);
    }

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

    const faults = faultsOf(injector.counts, afterRun, before);

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
      outcomes: outcomesOf(records),
      faults,
      observed: observedOf(afterRun, before),
      invariants,
      badInputs,
    };
  } finally {
    api.destroy();
    await ownStack.stop();
  }
}
