import type { Spread } from './stats.ts';

/**
 * What a benchmark run does (the plan) and what it writes (the results), shared by the phases,
 * the report and the test that checks the result file's shape.
 */

export type EngineChoice = 'auto' | 'postgres' | 'pglite';

export interface PollingCase {
  /** The query is `select pg_sleep(durationS + offset)`, the offset as below. */
  durationS: number;
  repetitions: number;
  /**
   * Repetition r of R sleeps `durationS + spreadS × r / R`. A fixed loop's detection delay depends
   * on where the statement's end falls between two of its polls; an exact duration would put it at
   * the same place in every run (always lucky or always unlucky), where a user's queries land
   * anywhere. Spreading the end over one polling interval measures the delay a user would see.
   * 0 for a query shorter than every interval: the first poll after the Wait sees its end anyway.
   */
  spreadS: number;
}

export interface BenchPlan {
  mode: 'full' | 'quick' | 'custom';
  /** `auto`: PostgreSQL when its binaries (or SPECTRA_LOCAL_DATABASE_URL) are there, else PGlite. */
  engine: EngineChoice;
  /** Added by the Data API emulator to every statement that opens a session, for the whole run. */
  openSessionLatencyMs: number;
  polling: {
    cases: PollingCase[];
    /** The fixed Wait of each public-sample baseline, in seconds. */
    fixedWaitsS: number[];
  };
  sequential: { queries: number; repetitions: number; sql: string };
  /** The multi-tenant workload of every day. */
  concurrent: WorkloadPlan;
  /** The pool under pressure: one tenant's burst, and many tenants against the cluster's cap. */
  pressure: {
    /** SPECTRA_MAX_SESSIONS_TOTAL for the whole run: below what `manyTenants` opens unchecked. */
    maxSessionsTotal: number;
    burst: WorkloadPlan;
    manyTenants: WorkloadPlan;
  };
  /** Large results: the sizes, in rows, and how many times each variant reads each one. */
  results: { rows: number[]; repetitions: number };
  bundles: {
    /** Function names from functions/catalog.ts; empty: every function. */
    functions: string[];
    initRuns: number;
  };
}

/**
 * A workload: N queries of T tenants, the tenant of each drawn with Zipf-skewed frequencies from a
 * fixed seed (the same sequence for every variant), C in flight at once.
 */
export interface WorkloadPlan {
  tenants: number;
  queries: number;
  concurrency: number;
  zipfExponent: number;
  seed: number;
  repetitions: number;
  sql: string;
}

export interface PollingRow {
  durationS: number;
  /** The durations the repetitions ran (see {@link PollingCase.spreadS}). */
  durationsS: number[];
  variant: string;
  /** Medians over the repetitions. */
  transitions: number;
  detectionDelayMs: number;
  latencyMs: number;
  lambdaInvocations: number;
  dynamodbRequests: number;
  dataApiRequests: number;
  /** The requests of the first run, per `X-Amz-Target` (`DynamoDB_20120810.Query`, ...). */
  requestsByOperation: Record<string, number>;
  spread: { transitions: Spread; detectionDelayMs: Spread; latencyMs: Spread };
}

export interface PerExecutionRow {
  durationS: number;
  transitions: number;
  lambdaInvocations: number;
  dynamodbRequests: number;
  dataApiRequests: number;
  requestsByOperation: Record<string, number>;
}

export interface MissBreakdown {
  /** The tenant's first query: nothing to reuse yet. */
  cold: number;
  /** Another query of the tenant was in flight and no idle session was left. */
  concurrency: number;
  /** The session handed out was busy; the Data API refused it and a new one was opened. */
  rejected: number;
  /** Every query opens a session (the no-reuse design). */
  byDesign: number;
  other: number;
}

/**
 * Where the queries that took one path spent their time, over every repetition: the states'
 * medians, and the rest (the state machine's own time between states) as `otherMs`.
 */
export interface LatencyPath {
  /** How Acquire Session ended (bench/harness.ts AcquireOutcome), or `all`. */
  path: string;
  queries: number;
  /** Of them, how many reused a session (the execution's `sessionReused`). */
  reused: number;
  /** Of them, how many were in their run's first wave (see QuerySample.firstWave). */
  firstWave: number;
  p50Ms: number;
  p95Ms: number;
  acquireMs: number;
  submitMs: number;
  releaseMs: number;
  fetchMs: number;
  otherMs: number;
}

/** The latency paths of every query, and of the slowest 5% alone (at or above the p95). */
export interface LatencyBreakdown {
  all: LatencyPath[];
  tail: LatencyPath[];
}

/**
 * What one run of a variant counts and its result reports under the same name: in the result, the
 * median over the runs, but for the largest pools, which are the largest over them.
 */
export interface RunCounts {
  queries: number;
  /** Statements the Data API refused because their session was running another one. */
  busyRejections: number;
  /** Executions that went through Invalidate Session at least once. */
  queriesRejected: number;
  failed: number;
  sessionsOpened: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  /**
   * The most sessions of one tenant open at once on the Data API (from each session's open and
   * close times): what the tenant's cap bounds.
   */
  largestPool: number;
  /** The most sessions of every tenant open at once. */
  largestTotal: number;
  /** Acquire Session retried because the tenant's pool was at its cap. */
  poolExhaustedRetries: number;
}

/** One variant under the concurrent workload; top-level figures are medians over repetitions. */
export interface ConcurrentVariantResult extends RunCounts {
  hitRate: number;
  dataApiRequestsPerQuery: number;
  dynamodbRequestsPerQuery: number;
  lambdaInvocationsPerQuery: number;
  transitionsPerQuery: number;
  queriesPerSecond: number;
  /**
   * CPU the benchmark's process spent per query: the functions, Step Functions, DynamoDB and the
   * Data API emulator all run in it (PostgreSQL does not). On 2 cores this bounds the throughput.
   */
  cpuMsPerQuery: number;
  misses: MissBreakdown;
  /** Where the time went, by path (absent in results from before it was measured). */
  breakdown?: LatencyBreakdown;
  /** Failed executions by error, summed over the repetitions. */
  failuresByError: Record<string, number>;
  spread: Record<
    'hitRate' | 'busyRejections' | 'sessionsOpened' | 'p50Ms' | 'p95Ms' | 'queriesPerSecond',
    Spread
  >;
}

export interface VariantResults {
  spectra: ConcurrentVariantResult;
  singleSession: ConcurrentVariantResult;
  noReuse: ConcurrentVariantResult;
}

export interface SequentialResult {
  openSessionLatencyMs: number;
  /** Per query position, the median over repetitions, in ms. */
  withReuse: number[];
  withoutReuse: number[];
  /** Every repetition's latencies. */
  runs: { withReuse: number[][]; withoutReuse: number[][] };
  summary: {
    withReuse: { firstMs: number; restMedianMs: number };
    withoutReuse: { firstMs: number; restMedianMs: number };
  };
}

export interface BundleRow {
  function: string;
  bytes: number;
  mapBytes: number;
  /** Median time to import the bundle in a fresh Node process. */
  initMs: number;
  initRunsMs: number[];
  /** Median wall time of the whole process (Node's own start included), for context. */
  processMs: number;
}

/** One FetchResults of one result, in a process of its own (bench/fetch-results-child.ts). */
export interface ResultsMeasurement {
  /** `spectra-capped`: Spectra's FetchResults with V8's old space capped (see CAPPED_OLD_SPACE_MB). */
  variant: 'spectra' | 'baseline' | 'spectra-capped';
  rows: number;
  /** The object written (gzip). */
  bytes: number;
  /** The JSON Lines before gzip. */
  uncompressedBytes: number;
  /** From the first page request to the result being in the bucket. */
  seconds: number;
  idleRssBytes: number;
  peakRssBytes: number;
  idleHeldBytes: number;
  peakHeldBytes: number;
  peakRssAboveIdleMB: number;
  /** V8's heap plus the memory outside it (Buffers), sampled: what the program holds. */
  peakHeldAboveIdleMB: number;
  /** Uncompressed MB (10^6 bytes) per second. */
  megabytesPerSecond: number;
}

export interface ResultsVariantSummary {
  /** Medians over the repetitions. */
  seconds: number;
  megabytesPerSecond: number;
  /** Largest over the repetitions. */
  peakRssAboveIdleMB: number;
  peakHeldAboveIdleMB: number;
}

export interface ResultsCase {
  rows: number;
  uncompressedMB: number;
  objectMB: number;
  /** The query through Spectra's state machine, StartExecution to SUCCEEDED, the write included. */
  endToEndMs: number;
  spectra: ResultsVariantSummary;
  baseline: ResultsVariantSummary;
  /** Spectra's FetchResults again, with V8's old space capped: it completes only if what it holds is bounded. */
  capped: {
    oldSpaceMB: number;
    seconds: number;
    /** Rows it wrote: all of them, or the run would have failed. */
    rows: number;
    peakRssAboveIdleMB: number;
    peakHeldAboveIdleMB: number;
  };
  runs: ResultsMeasurement[];
}

export interface ResultsResult {
  sql: string;
  cases: ResultsCase[];
}

export interface TargetCheck {
  id: string;
  description: string;
  target: string;
  actual: string;
  met: boolean | null;
  note?: string;
}

export interface BenchResults {
  meta: {
    date: string;
    mode: BenchPlan['mode'];
    node: string;
    machine: { cpus: number; cpuModel: string; memoryGiB: number; platform: string; arch: string };
    engine: 'postgres' | 'pglite';
    engineDetail: string;
    durationMs: number;
    latency: { openSessionMs: number; note: string };
    configuration: Record<string, string>;
    plan: BenchPlan;
    /** Set when the large-results phase was run again alone (`--only results`), later than the rest. */
    resultsRerunAt?: string;
    /** Set when the pool's phases were run again alone (`--only pool`), later than the rest. */
    poolRerunAt?: string;
    /** Set when the packaging phase was run again alone (`--only bundles`), later than the rest. */
    bundlesRerunAt?: string;
  };
  perExecution: { shortQuery: PerExecutionRow; byDuration: PerExecutionRow[] };
  polling: PollingRow[];
  sequential: SequentialResult;
  variants: VariantResults;
  pressure: { burst: VariantResults; manyTenants: VariantResults };
  results: ResultsResult;
  bundles: BundleRow[];
  targets: TargetCheck[];
}
