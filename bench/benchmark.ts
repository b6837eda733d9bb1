import { cpus, totalmem } from 'node:os';
import {
  CONFIG_SETTINGS,
  CONFIG_TABLE,
  CONFIG_VARIABLES,
  configDefaults,
} from '../functions/common/config-table.ts';
import {
  LOCAL_CLUSTER_IDENTIFIER,
  LOCAL_RESULTS_BUCKET_NAME,
  LOCAL_SESSIONS_TABLE_NAME,
} from '../local/identity.ts';
import type { LocalStack, LocalStackOptions } from '../local/stack.ts';
import { Harness } from './harness.ts';
import type { BenchPlan, BenchResults, BundleRow } from './model.ts';
import { runBundles } from './phases/bundles.ts';
import { runConcurrent, runWorkload } from './phases/concurrent.ts';
import type { PhaseContext } from './phases/context.ts';
import { runPolling } from './phases/polling.ts';
import { runResults } from './phases/results.ts';
import { runSequential } from './phases/sequential.ts';
import type { OnlyPart } from './plan.ts';
import { externalPostgres, newestPostgresBin, startBenchPostgres } from './postgres.ts';
import { checkTargets } from './targets.ts';

/**
 * Runs every phase of the benchmark in this process, against one local stack started for it, and
 * returns the results. Every variant runs on the same stack in the same run, so the figures
 * compare designs and nothing else.
 */

const CLUSTER = LOCAL_CLUSTER_IDENTIFIER;

/**
 * The configuration the functions load: every setting's default (functions/common/config-table.ts),
 * spelled out and on the local stack's cluster, table and bucket, so that a variable left in the
 * shell cannot change what is measured. Logs and EMF metrics are off: the in-process functions
 * would print a line per invocation, thousands of them, and their cost is not what the benchmark
 * compares (it is the same in every variant).
 */
export const FUNCTION_ENVIRONMENT: Record<string, string> = {
  ...configDefaults(),
  [CONFIG_VARIABLES.cluster]: CLUSTER,
  [CONFIG_VARIABLES.table]: LOCAL_SESSIONS_TABLE_NAME,
  [CONFIG_VARIABLES.resultsBucket]: LOCAL_RESULTS_BUCKET_NAME,
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  POWERTOOLS_METRICS_DISABLED: 'true',
};

/**
 * Sets the functions' configuration in this process, before the stack or a function loads:
 * `maxSessionsTotal` is the plan's cap on the cluster's sessions (the default's when none is given).
 */
export function configureBenchEnvironment(maxSessionsTotal?: number): void {
  // The settings with no default (a workgroup, a secret, denied users) stay unset.
  for (const { variable } of CONFIG_SETTINGS) delete process.env[variable];
  FUNCTION_ENVIRONMENT[CONFIG_VARIABLES.maxSessionsTotal] = String(
    maxSessionsTotal ?? CONFIG_TABLE.maxSessionsTotal.default,
  );
  Object.assign(process.env, FUNCTION_ENVIRONMENT);
}

export interface Engine {
  kind: 'postgres' | 'pglite';
  detail: string;
  databaseUrl?: string;
  stop(): Promise<void>;
}

async function startEngine(choice: BenchPlan['engine']): Promise<Engine> {
  const external = process.env.SPECTRA_LOCAL_DATABASE_URL;
  const wantPostgres =
    choice === 'postgres' ||
    (choice === 'auto' && (external !== undefined || newestPostgresBin() !== undefined));
  if (!wantPostgres) {
    return {
      kind: 'pglite',
      detail: 'PGlite, embedded (one backend: statements run one at a time)',
      stop: async () => {},
    };
  }
  const server = external ? await externalPostgres(external) : await startBenchPostgres();
  return { kind: 'postgres', detail: server.detail, databaseUrl: server.url, stop: server.stop };
}

/** The variants' module, whose handler factories the stack builds (bench/variants.ts). */
const VARIANTS_URL = new URL('./variants.ts', import.meta.url).href;

export interface BenchStack {
  context: PhaseContext;
  stack: LocalStack;
  engine: Engine;
  /** The workflow's definition with the local function ARNs, for registering more variants. */
  definition: string;
  stop(): Promise<void>;
}

/**
 * The SQL engine, the local stack with the emulator's session-opening latency set, and every
 * variant's state machine registered on it, ready for the phases.
 */
export async function startBenchStack(
  plan: BenchPlan,
  log: (line: string) => void,
  stackOptions: Pick<LocalStackOptions, 'functionThreads'> = {},
): Promise<BenchStack> {
  configureBenchEnvironment(plan.pressure.maxSessionsTotal);
  const engine = await startEngine(plan.engine);
  let stack: LocalStack | undefined;
  let harness: Harness | undefined;
  try {
    log(`Starting the local stack on ${engine.detail}`);
    const { startLocalStack } = await import('../local/stack.ts');
    stack = await startLocalStack({ port: 0, databaseUrl: engine.databaseUrl, ...stackOptions });
    const started = stack;
    log(
      `  functions ${stack.functionThreads > 0 ? `on ${stack.functionThreads} worker threads` : 'in process'}`,
    );
    harness = new Harness(stack.url, FUNCTION_ENVIRONMENT[CONFIG_VARIABLES.table] as string);
    await harness.setLatency('RedshiftData.Connect', plan.openSessionLatencyMs);
    log(
      `  ${stack.url}, each Data API connection (a session's opening, or a statement without one) takes +${plan.openSessionLatencyMs} ms`,
    );

    // The variants import the functions, which must see the stack's environment when they load.
    const variants = await import('./variants.ts');
    const { localDefinitionText } = await import('../local/stepfunctions/local-execution.ts');
    const definition = localDefinitionText();
    // Every variant's handlers run where the stack runs Spectra's (in process or on its function
    // threads), so the designs are compared on the same footing.
    const handlersOf = (exportName: string) =>
      started.workflowHandlers({ moduleUrl: VARIANTS_URL, exportName });
    const fixedWaitHandlers = await handlersOf(variants.VARIANT_HANDLERS.fixedWait);
    const fixedWait = new Map(
      plan.polling.fixedWaitsS.map((seconds) => [
        seconds,
        started.stepFunctions.register(
          `bench-fixed-wait-${seconds}s`,
          variants.fixedWaitDefinition(definition, seconds),
          fixedWaitHandlers,
        ),
      ]),
    );
    const sessionHandlers = {
      singleSession: await handlersOf(variants.VARIANT_HANDLERS.singleSession),
      noReuse: await handlersOf(variants.VARIANT_HANDLERS.noReuse),
    };
    const context: PhaseContext = {
      harness,
      plan,
      log,
      machines: {
        spectra: stack.stateMachineArn,
        fixedWait,
        singleSession: stack.stepFunctions.register(
          'bench-single-session',
          definition,
          sessionHandlers.singleSession,
        ),
        noReuse: stack.stepFunctions.register(
          'bench-no-reuse',
          definition,
          sessionHandlers.noReuse,
        ),
      },
    };
    const client = harness;
    return {
      context,
      stack,
      engine,
      definition,
      async stop() {
        client.destroy();
        await started.stop();
        await engine.stop();
      },
    };
  } catch (error) {
    harness?.destroy();
    await stack?.stop().catch(() => undefined);
    await engine.stop().catch(() => undefined);
    throw error;
  }
}

/** Phases 4 and 5: the concurrent workload, then the burst and the many tenants. */
async function runPool(
  context: PhaseContext,
): Promise<Pick<BenchResults, 'variants' | 'pressure'>> {
  const { plan, log } = context;
  const c = plan.concurrent;
  log(
    `Concurrent workload: ${c.queries} queries, ${c.tenants} tenants (Zipf s=${c.zipfExponent}, seed ${c.seed}), ${c.concurrency} at once, ×${c.repetitions}`,
  );
  const variants = await runConcurrent(context);

  const { burst, manyTenants, maxSessionsTotal } = plan.pressure;
  log(
    `Under pressure: a burst of ${burst.queries} queries of one tenant at once ×${burst.repetitions}; ${manyTenants.queries} queries of ${manyTenants.tenants} tenants (Zipf s=${manyTenants.zipfExponent}), ${manyTenants.concurrency} at once, SPECTRA_MAX_SESSIONS_TOTAL ${maxSessionsTotal}, ×${manyTenants.repetitions}`,
  );
  return {
    variants,
    pressure: {
      burst: await runWorkload(context, burst, 'burst'),
      manyTenants: await runWorkload(context, manyTenants, 'manyTenants'),
    },
  };
}

/** The packaging phase: every function bundled, its size, and its cold starts timed. */
function runPackaging(plan: BenchPlan, log: (line: string) => void): Promise<BundleRow[]> {
  log(
    `Packaging: ${plan.bundles.functions.length || 'every'} function bundle(s), cold init median of ${plan.bundles.initRuns}`,
  );
  return runBundles(plan.bundles, log);
}

/** The packaging phase alone: it bundles and imports the functions, and needs no local stack. */
async function rerunBundles(
  plan: BenchPlan,
  previous: BenchResults,
  log: (line: string) => void,
): Promise<BenchResults> {
  configureBenchEnvironment(plan.pressure.maxSessionsTotal);
  const results: BenchResults = {
    ...previous,
    meta: {
      ...previous.meta,
      plan: { ...previous.meta.plan, bundles: plan.bundles },
      bundlesRerunAt: new Date().toISOString(),
    },
    bundles: await runPackaging(plan, log),
  };
  results.targets = checkTargets(results);
  return results;
}

export interface RunOptions {
  log?: (line: string) => void;
}

export async function runBenchmark(
  plan: BenchPlan,
  options: RunOptions = {},
): Promise<BenchResults> {
  const log = options.log ?? (() => {});
  const started = performance.now();

  // Before anything loads the functions' modules: their logger and metrics read the environment
  // when they are built, and the packaging phase loads one of those modules. Its children get an
  // environment of their own.
  configureBenchEnvironment(plan.pressure.maxSessionsTotal);
  // First, while the machine is quiet: the cold starts are timed.
  const bundles = await runPackaging(plan, log);

  const bench = await startBenchStack(plan, log);
  try {
    const { context, engine } = bench;

    const cases = plan.polling.cases.map((c) => `${c.durationS} s ×${c.repetitions}`).join(', ');
    log(
      `Polling and cost per execution: queries of ${cases}; spectra and ${plan.polling.fixedWaitsS.map((s) => `fixed ${s} s`).join(', ')}, one at a time`,
    );
    const { polling, perExecution } = await runPolling(context);

    log(
      `Session reuse, sequential: ${plan.sequential.queries} queries in a row ×${plan.sequential.repetitions}, with and without reuse`,
    );
    const sequential = await runSequential(context);

    const { variants: variantsResult, pressure } = await runPool(context);

    log(
      `Large results: ${plan.results.rows.map((rows) => rows.toLocaleString('en-US')).join(', ')} rows; FetchResults streaming and the read-everything baseline, each in a process of its own`,
    );
    const largeResults = await runResults(context);

    const shortest = perExecution.reduce<(typeof perExecution)[number] | undefined>(
      (best, row) => (best === undefined || row.durationS < best.durationS ? row : best),
      undefined,
    );
    if (!shortest) throw new Error('The plan has no polling case, so no per-execution figures');
    const results: BenchResults = {
      meta: {
        date: new Date().toISOString(),
        mode: plan.mode,
        node: process.version,
        machine: {
          cpus: cpus().length,
          cpuModel: cpus()[0]?.model ?? 'unknown',
          memoryGiB: Math.round(totalmem() / 2 ** 30),
          platform: process.platform,
          arch: process.arch,
        },
        engine: engine.kind,
        engineDetail: engine.detail,
        durationMs: 0,
        latency: {
          openSessionMs: plan.openSessionLatencyMs,
          note: 'POST /_spectra/latency {target: "RedshiftData.Connect"}: added by the Data API emulator to every connection it opens, in every phase: a statement that opens a session, or one that runs without a session',
        },
        configuration: Object.fromEntries(
          Object.entries(FUNCTION_ENVIRONMENT).filter(([name]) => name.startsWith('SPECTRA_')),
        ),
        plan,
      },
      perExecution: { shortQuery: shortest, byDuration: perExecution },
      polling,
      sequential,
      variants: variantsResult,
      pressure,
      results: largeResults,
      bundles,
      targets: [],
    };
    results.targets = checkTargets(results);
    results.meta.durationMs = Math.round(performance.now() - started);
    return results;
  } finally {
    await bench.stop();
  }
}

/**
 * Runs one part alone and puts its figures into `previous` (a full run's results), for a change
 * that needs no other phase measured again: `results`, the large-results phase (FetchResults);
 * `pool`, the concurrent workload and the pool under pressure (the session pool); `bundles`, the
 * packaging phase (the functions' imports and bundling).
 */
export async function rerunPart(
  plan: BenchPlan,
  previous: BenchResults,
  part: OnlyPart,
  options: RunOptions = {},
): Promise<BenchResults> {
  const log = options.log ?? (() => {});
  if (part === 'bundles') return rerunBundles(plan, previous, log);
  const bench = await startBenchStack(plan, log);
  try {
    const meta = {
      ...previous.meta,
      configuration: Object.fromEntries(
        Object.entries(FUNCTION_ENVIRONMENT).filter(([name]) => name.startsWith('SPECTRA_')),
      ),
    };
    let results: BenchResults;
    if (part === 'results') {
      log(
        `Large results: ${plan.results.rows.map((rows) => rows.toLocaleString('en-US')).join(', ')} rows`,
      );
      results = {
        ...previous,
        meta: {
          ...meta,
          plan: { ...previous.meta.plan, results: plan.results },
          resultsRerunAt: new Date().toISOString(),
        },
        results: await runResults(bench.context),
      };
    } else {
      const { variants, pressure } = await runPool(bench.context);
      results = {
        ...previous,
        meta: {
          ...meta,
          engine: bench.engine.kind,
          engineDetail: bench.engine.detail,
          plan: {
            ...previous.meta.plan,
            concurrent: plan.concurrent,
            pressure: plan.pressure,
          },
          poolRerunAt: new Date().toISOString(),
        },
        variants,
        pressure,
      };
    }
    results.targets = checkTargets(results);
    return results;
  } finally {
    await bench.stop();
  }
}
