import type {
  BenchResults,
  ConcurrentVariantResult,
  LatencyPath,
  PollingRow,
  VariantResults,
} from './model.ts';
import { ratio, round, type Spread } from './stats.ts';

/** The results as Markdown: the headline, the targets, then one section per phase. */

const int = (value: number) => Math.round(value).toLocaleString('en-US');
const num = (value: number, digits = 1) => round(value, digits).toLocaleString('en-US');
const msOf = (value: number) => `${int(value)} ms`;
const range = (spread: Spread, format: (value: number) => string = int) =>
  spread.runs > 1 ? `${format(spread.min)}–${format(spread.max)}` : '–';
/** A ratio: two decimals, or two significant digits when it is small enough to round to 0. */
const times = (value: number | null) =>
  value === null ? 'n/a' : `${value < 0.1 ? value.toPrecision(2) : num(value, 2)}×`;
const rate = (value: number) => value.toFixed(3);

function table(header: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.map(String).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

const VARIANT_NAMES: Record<string, string> = {
  spectra: 'Spectra',
  fixed5s: 'fixed 5 s Wait loop',
  fixed1s: 'fixed 1 s Wait loop',
  singleSession: 'one cached session per tenant',
  noReuse: 'no reuse',
};
const nameOf = (variant: string) => VARIANT_NAMES[variant] ?? variant;

function pollingRow(results: BenchResults, durationS: number, variant: string) {
  return results.polling.find((row) => row.durationS === durationS && row.variant === variant);
}

/** The headline's rows of the pool under pressure (section 5). */
function pressureHeadline(results: BenchResults): (string | number)[][] {
  const { burst, manyTenants } = results.pressure;
  const { queries } = results.meta.plan.pressure.burst;
  const across = (pick: (v: ConcurrentVariantResult) => string, of: VariantResults) => [
    pick(of.spectra),
    pick(of.singleSession),
    pick(of.noReuse),
  ];
  return [
    [
      `Burst of ${queries}: largest pool a tenant reached`,
      ...across((v) => int(v.largestPool), burst),
      '',
    ],
    [
      `Burst of ${queries}: p95 latency`,
      ...across((v) => msOf(v.p95Ms), burst),
      `${times(ratio(burst.spectra.p95Ms, burst.singleSession.p95Ms))} / ${times(ratio(burst.spectra.p95Ms, burst.noReuse.p95Ms))}`,
    ],
    [
      'Many tenants: most sessions open at once',
      ...across((v) => int(v.largestTotal), manyTenants),
      '',
    ],
    [
      'Many tenants: p95 latency',
      ...across((v) => msOf(v.p95Ms), manyTenants),
      `${times(ratio(manyTenants.spectra.p95Ms, manyTenants.singleSession.p95Ms))} / ${times(ratio(manyTenants.spectra.p95Ms, manyTenants.noReuse.p95Ms))}`,
    ],
  ];
}

function headline(results: BenchResults): string {
  const { spectra, singleSession, noReuse } = results.variants;
  const rows: (string | number)[][] = [
    [
      'Concurrent: session hit rate',
      rate(spectra.hitRate),
      rate(singleSession.hitRate),
      rate(noReuse.hitRate),
      '',
    ],
    [
      'Concurrent: queries refused for a busy session',
      int(spectra.busyRejections),
      int(singleSession.busyRejections),
      int(noReuse.busyRejections),
      '',
    ],
    [
      'Concurrent: sessions opened',
      int(spectra.sessionsOpened),
      int(singleSession.sessionsOpened),
      int(noReuse.sessionsOpened),
      `${times(ratio(spectra.sessionsOpened, singleSession.sessionsOpened))} / ${times(ratio(spectra.sessionsOpened, noReuse.sessionsOpened))}`,
    ],
    [
      'Concurrent: p50 latency',
      msOf(spectra.p50Ms),
      msOf(singleSession.p50Ms),
      msOf(noReuse.p50Ms),
      `${times(ratio(spectra.p50Ms, singleSession.p50Ms))} / ${times(ratio(spectra.p50Ms, noReuse.p50Ms))}`,
    ],
    [
      'Concurrent: p95 latency',
      msOf(spectra.p95Ms),
      msOf(singleSession.p95Ms),
      msOf(noReuse.p95Ms),
      `${times(ratio(spectra.p95Ms, singleSession.p95Ms))} / ${times(ratio(spectra.p95Ms, noReuse.p95Ms))}`,
    ],
    [
      'Concurrent: p99 latency',
      msOf(spectra.p99Ms),
      msOf(singleSession.p99Ms),
      msOf(noReuse.p99Ms),
      `${times(ratio(spectra.p99Ms, singleSession.p99Ms))} / ${times(ratio(spectra.p99Ms, noReuse.p99Ms))}`,
    ],
    [
      'Concurrent: largest pool a tenant reached',
      int(spectra.largestPool),
      int(singleSession.largestPool),
      int(noReuse.largestPool),
      '',
    ],
    ...pressureHeadline(results),
    [
      'Concurrent: Data API requests per query',
      num(spectra.dataApiRequestsPerQuery, 2),
      num(singleSession.dataApiRequestsPerQuery, 2),
      num(noReuse.dataApiRequestsPerQuery, 2),
      `${times(ratio(spectra.dataApiRequestsPerQuery, singleSession.dataApiRequestsPerQuery))} / ${times(ratio(spectra.dataApiRequestsPerQuery, noReuse.dataApiRequestsPerQuery))}`,
    ],
    [
      'Concurrent: DynamoDB requests per query',
      num(spectra.dynamodbRequestsPerQuery, 2),
      num(singleSession.dynamodbRequestsPerQuery, 2),
      num(noReuse.dynamodbRequestsPerQuery, 2),
      '',
    ],
  ];
  const sequential = results.sequential.summary;
  rows.push([
    `In a row: latency after the first query (+${results.sequential.openSessionLatencyMs} ms per session opened)`,
    msOf(sequential.withReuse.restMedianMs),
    '',
    msOf(sequential.withoutReuse.restMedianMs),
    `– / ${times(ratio(sequential.withReuse.restMedianMs, sequential.withoutReuse.restMedianMs))}`,
  ]);
  const first = `| Measure | Spectra | One cached session per tenant | No reuse | Spectra ÷ baselines |\n| --- | --- | --- | --- | --- |\n${rows.map((r) => `| ${r.join(' | ')} |`).join('\n')}`;

  const durations = [...new Set(results.polling.map((row) => row.durationS))];
  const fixedVariants = [...new Set(results.polling.map((row) => row.variant))].filter(
    (variant) => variant !== 'spectra',
  );
  const pollingRows = durations.flatMap((durationS) => {
    const spectraRow = pollingRow(results, durationS, 'spectra') as PollingRow;
    const baselines = fixedVariants.map((variant) => pollingRow(results, durationS, variant));
    return [
      [
        `${durationS} s query: state transitions`,
        int(spectraRow.transitions),
        ...baselines.map((row) => (row ? int(row.transitions) : '')),
        baselines
          .map((row) => times(row ? ratio(spectraRow.transitions, row.transitions) : null))
          .join(' / '),
      ],
      [
        `${durationS} s query: detection delay`,
        msOf(spectraRow.detectionDelayMs),
        ...baselines.map((row) => (row ? msOf(row.detectionDelayMs) : '')),
        baselines
          .map((row) =>
            times(row ? ratio(spectraRow.detectionDelayMs, row.detectionDelayMs) : null),
          )
          .join(' / '),
      ],
    ];
  });
  const second = table(
    ['Measure', 'Spectra', ...fixedVariants.map(nameOf), 'Spectra ÷ baselines'],
    pollingRows,
  );
  return `${first}\n\n${second}`;
}

function targetsSection(results: BenchResults): string {
  return table(
    ['Target', 'Required', 'Measured', 'Met'],
    results.targets.map((t) => [
      t.description,
      t.target,
      t.actual,
      t.met === null ? `not measured${t.note ? ` (${t.note})` : ''}` : t.met ? 'yes' : '**no**',
    ]),
  );
}

function perExecutionSection(results: BenchResults): string {
  return table(
    ['Query', 'State transitions', 'Lambda invocations', 'DynamoDB requests', 'Data API requests'],
    results.perExecution.byDuration.map((row) => [
      `${row.durationS} s`,
      num(row.transitions),
      num(row.lambdaInvocations),
      num(row.dynamodbRequests),
      num(row.dataApiRequests),
    ]),
  );
}

function pollingSection(results: BenchResults): string {
  return table(
    [
      'Query',
      'Variant',
      'Transitions',
      'Detection delay (median)',
      'Detection delay (range)',
      'End to end',
      'Lambda',
      'DynamoDB',
      'Data API',
      'Runs',
    ],
    results.polling.map((row) => [
      `${row.durationS} s${row.durationsS.length > 1 && row.durationsS.some((d) => d !== row.durationS) ? ` (${row.durationsS.join(', ')})` : ''}`,
      nameOf(row.variant),
      num(row.transitions),
      msOf(row.detectionDelayMs),
      range(row.spread.detectionDelayMs),
      msOf(row.latencyMs),
      num(row.lambdaInvocations),
      num(row.dynamodbRequests),
      num(row.dataApiRequests),
      row.spread.transitions.runs,
    ]),
  );
}

function sequentialSection(results: BenchResults): string {
  const { sequential } = results;
  return table(
    ['Query #', 'Spectra (reuse)', 'No reuse', 'Spectra ÷ no reuse'],
    sequential.withReuse.map((withReuse, index) => {
      const without = sequential.withoutReuse[index] as number;
      return [index + 1, msOf(withReuse), msOf(without), times(ratio(withReuse, without))];
    }),
  );
}

function concurrentSection(variants: VariantResults): string {
  const entries = Object.entries(variants) as [string, ConcurrentVariantResult][];
  const row = (label: string, pick: (v: ConcurrentVariantResult) => string) => [
    label,
    ...entries.map(([, v]) => pick(v)),
  ];
  return table(
    ['Measure', ...entries.map(([variant]) => nameOf(variant))],
    [
      row('Queries (failed)', (v) => `${int(v.queries)} (${int(v.failed)})`),
      row('Session hit rate', (v) => `${rate(v.hitRate)} (${range(v.spread.hitRate, rate)})`),
      row(
        'Misses: cold / concurrency / refused session / by design / other',
        (v) =>
          `${int(v.misses.cold)} / ${int(v.misses.concurrency)} / ${int(v.misses.rejected)} / ${int(v.misses.byDesign)} / ${int(v.misses.other)}`,
      ),
      row(
        'Busy rejections (Data API)',
        (v) => `${int(v.busyRejections)} (${range(v.spread.busyRejections)})`,
      ),
      row('Queries that had to invalidate their session', (v) => int(v.queriesRejected)),
      row('Sessions opened', (v) => `${int(v.sessionsOpened)} (${range(v.spread.sessionsOpened)})`),
      row('Largest pool: most sessions of one tenant open at once (any run)', (v) =>
        int(v.largestPool),
      ),
      row('Most sessions of every tenant open at once (any run)', (v) => int(v.largestTotal)),
      row('Acquire retried: pool at its cap', (v) => int(v.poolExhaustedRetries)),
      row('p50 latency', (v) => `${msOf(v.p50Ms)} (${range(v.spread.p50Ms)})`),
      row('p95 latency', (v) => `${msOf(v.p95Ms)} (${range(v.spread.p95Ms)})`),
      row('p99 latency', (v) => msOf(v.p99Ms)),
      row('Throughput', (v) => `${num(v.queriesPerSecond)} queries/s`),
      row('CPU per query (this process: functions, Step Functions, DynamoDB, Data API)', (v) =>
        msOf(v.cpuMsPerQuery),
      ),
      row('Share of one core that CPU took', (v) => `${Math.round(coreShare(v) * 100)}%`),
      row('Data API requests per query', (v) => num(v.dataApiRequestsPerQuery, 2)),
      row('DynamoDB requests per query', (v) => num(v.dynamodbRequestsPerQuery, 2)),
      row('Lambda invocations per query', (v) => num(v.lambdaInvocationsPerQuery, 2)),
      row('State transitions per query', (v) => num(v.transitionsPerQuery, 2)),
    ],
  );
}

const PATH_NAMES: Record<string, string> = {
  all: 'every query',
  leased: 'leased at Acquire (a hit)',
  race: 'every session leased: raced a session given back against a new one',
  open: 'none in the pool: opened a session',
  sessionless: 'no slot: ran without a session',
  failed: 'failed in Acquire',
};

/**
 * Where Spectra's queries spent their time, by how Acquire Session ended and by state: medians
 * over every repetition, for every query and for the slowest 5%, where the p95 comes from.
 */
function breakdownSection(variant: ConcurrentVariantResult): string {
  const { breakdown } = variant;
  if (!breakdown || breakdown.all.length === 0) return '';
  const rows = (part: string, paths: LatencyPath[]) =>
    paths.map((path) => [
      part,
      PATH_NAMES[path.path] ?? path.path,
      `${int(path.queries)} (${int(path.reused)} reused)`,
      msOf(path.p50Ms),
      msOf(path.p95Ms),
      msOf(path.acquireMs),
      msOf(path.submitMs),
      msOf(path.releaseMs),
      msOf(path.fetchMs),
      msOf(path.otherMs),
    ]);
  return `Where Spectra's time went, by how Acquire Session ended (queries of every repetition; the states are their medians, \`between states\` the rest of the latency):

${table(
  [
    'Queries',
    'Path',
    'Count',
    'p50',
    'p95',
    'Acquire Session',
    'Submit Query',
    'Release Session',
    'Fetch Results',
    'between states',
  ],
  [...rows('all', breakdown.all), ...rows('slowest 5%', breakdown.tail)],
)}`;
}

function pressureIntro(results: BenchResults): string {
  const { burst, manyTenants, maxSessionsTotal } = results.meta.plan.pressure;
  const config = results.meta.configuration;
  return `The same three designs, each from cold, under two loads a real tenant produces. **A burst:** ${burst.queries} queries (\`${burst.sql}\`) of one tenant started at once, ×${burst.repetitions}: with SPECTRA_MAX_SESSIONS_PER_TENANT = ${config.SPECTRA_MAX_SESSIONS_PER_TENANT}, Spectra runs ${config.SPECTRA_MAX_SESSIONS_PER_TENANT} of them at a time, and the rest wait for a session to come back (Acquire waits up to SPECTRA_ACQUIRE_WAIT_MILLISECONDS = ${config.SPECTRA_ACQUIRE_WAIT_MILLISECONDS} ms, then fails with SessionPoolExhaustedError, which the state machine retries with backoff). **Many tenants:** ${manyTenants.queries} queries (\`${manyTenants.sql}\`) of ${manyTenants.tenants} tenants (Zipf s = ${manyTenants.zipfExponent}, seed ${manyTenants.seed}), ${manyTenants.concurrency} at once, ×${manyTenants.repetitions}, with SPECTRA_MAX_SESSIONS_TOTAL = ${maxSessionsTotal}, below the one session each tenant drawn would open unchecked: past it, a query runs without a session. The largest pool is measured on the Data API, from each session's open and close times: the sessions of one tenant open at the same time, whether the pool holds them or not.`;
}

function pressureNotes(results: BenchResults): string {
  const { burst, manyTenants } = results.pressure;
  const config = results.meta.configuration;
  return [
    `- **The caps hold:** in the burst, Spectra's largest pool was ${int(burst.spectra.largestPool)} (cap ${config.SPECTRA_MAX_SESSIONS_PER_TENANT}), against ${int(burst.noReuse.largestPool)} sessions of the tenant open at once without reuse and ${int(burst.singleSession.largestPool)} for the single cached session; with many tenants, at most ${int(manyTenants.spectra.largestTotal)} sessions were open at once over every tenant (SPECTRA_MAX_SESSIONS_TOTAL = ${config.SPECTRA_MAX_SESSIONS_TOTAL}), against ${int(manyTenants.noReuse.largestTotal)} without reuse.`,
    `- **What a cap costs:** a burst larger than the cap queues behind it, so its tail is longer than opening ${int(burst.noReuse.largestPool)} sessions at once (p95 ${msOf(burst.spectra.p95Ms)} against ${msOf(burst.noReuse.p95Ms)}); ${int(burst.spectra.poolExhaustedRetries)} Acquire retries at the cap, ${int(burst.spectra.failed)} executions failed (${
      Object.entries(burst.spectra.failuresByError)
        .map(([error, count]) => `${count} ${error}`)
        .join(', ') || 'none'
    }).`,
  ].join('\n');
}

/** How much of one core the benchmark's process used: near 100% means it was CPU-bound. */
const coreShare = (v: ConcurrentVariantResult) => (v.cpuMsPerQuery * v.queriesPerSecond) / 1000;

/** What the figures mean, written from them: the composition of Spectra's misses, and saturation. */
function concurrentNotes(results: BenchResults): string {
  const { spectra, singleSession } = results.variants;
  const c = results.meta.plan.concurrent;
  const misses = spectra.misses;
  const total = misses.cold + misses.concurrency + misses.rejected + misses.other;
  const notes = [
    `- **Spectra's misses** (${int(total)} of ${int(spectra.queries)}): ${int(misses.cold)} cold (each tenant's first query; with ${c.tenants} tenants the best possible hit rate is ${rate(1 - misses.cold / spectra.queries)}), ${int(misses.concurrency)} concurrency (another query of the tenant was in flight and every session of its pool was leased: Submit Query opened a session while it waited for one to come back, and the new one was ready first), ${int(misses.other)} other. A query that finds every session leased below the cap opens one beside its wait even when a session then comes back first; the new one joins the pool, so sessions opened (${int(spectra.sessionsOpened)}) can exceed the misses: a tenant's pool grows to what its concurrency needs, at most SPECTRA_MAX_SESSIONS_PER_TENANT = ${results.meta.configuration.SPECTRA_MAX_SESSIONS_PER_TENANT} (at the cap Acquire waits up to SPECTRA_ACQUIRE_WAIT_MILLISECONDS = ${results.meta.configuration.SPECTRA_ACQUIRE_WAIT_MILLISECONDS ?? 0} ms for a session to come back, then fails and the state machine retries, ${int(spectra.poolExhaustedRetries)} times here).`,
    `- **The single cached session** hands a busy session to concurrent queries of a tenant: ${int(singleSession.busyRejections)} statements were refused with \`Session is not available\` and ${int(singleSession.queriesRejected)} executions had to invalidate the session and open another (${int(singleSession.sessionsOpened)} sessions opened in all; the ones it overwrote stay open on the Data API until their keep-alive ends).`,
  ];
  const saturated = Object.values(results.variants).some((v) => coreShare(v) > 0.8);
  if (saturated) {
    notes.push(
      `- **CPU-bound:** the benchmark's process (every function, the Step Functions engine, DynamoDB and the Data API emulator run in it, on one event loop) used ${Object.values(
        results.variants,
      )
        .map((v) => `${Math.round(coreShare(v) * 100)}%`)
        .join(
          ', ',
        )} of a core. With ${c.concurrency} queries always in flight, latency is then about ${c.concurrency} ÷ throughput, so the p50/p95 above measure the local stack's CPU per query more than each design's waits; the sequential phase (section 3) shows those waits without contention.`,
    );
  }
  return notes.join('\n');
}

function bundlesSection(results: BenchResults): string {
  return table(
    [
      'Function',
      'index.mjs (bytes)',
      'source map (bytes)',
      'Cold init (median)',
      'Runs (ms)',
      'Whole process (median)',
    ],
    results.bundles.map((row) => [
      row.function,
      int(row.bytes),
      int(row.mapBytes),
      msOf(row.initMs),
      row.initRunsMs.map((value) => int(value)).join(', '),
      msOf(row.processMs),
    ]),
  );
}

function resultsSection(results: BenchResults): string {
  const cases = results.results?.cases ?? [];
  if (cases.length === 0) return 'Not run.';
  const mb = (value: number) => `${num(value, 1)} MB`;
  return table(
    [
      'rows',
      'JSON Lines / gzip',
      'end to end (Spectra)',
      'FetchResults: Spectra',
      'baseline',
      'time ratio',
      'MB/s: Spectra',
      'baseline',
      'peak RSS above idle: Spectra',
      'baseline',
      'peak heap + buffers above idle: Spectra',
      'baseline',
      `Spectra, heap capped at ${cases[0]?.capped.oldSpaceMB ?? 0} MB: rows written, peak RSS above idle`,
    ],
    cases.map((row) => [
      int(row.rows),
      `${mb(row.uncompressedMB)} / ${mb(row.objectMB)}`,
      `${num(row.endToEndMs / 1000, 2)} s`,
      `${num(row.spectra.seconds, 2)} s`,
      `${num(row.baseline.seconds, 2)} s`,
      times(ratio(row.spectra.seconds, row.baseline.seconds)),
      num(row.spectra.megabytesPerSecond, 1),
      num(row.baseline.megabytesPerSecond, 1),
      mb(row.spectra.peakRssAboveIdleMB),
      mb(row.baseline.peakRssAboveIdleMB),
      mb(row.spectra.peakHeldAboveIdleMB),
      mb(row.baseline.peakHeldAboveIdleMB),
      `${int(row.capped.rows)}, ${mb(row.capped.peakRssAboveIdleMB)}`,
    ]),
  );
}

export function renderMarkdown(results: BenchResults, chartPrefix = ''): string {
  const { meta } = results;
  const plan = meta.plan;
  const c = plan.concurrent;
  const chart = (file: string, alt: string) => `![${alt}](${chartPrefix}${file})`;
  return `# Spectra benchmark (${meta.mode})

${meta.date} · Node ${meta.node} · ${meta.machine.cpus} × ${meta.machine.cpuModel}, ${meta.machine.memoryGiB} GiB, ${meta.machine.platform}/${meta.machine.arch} · SQL engine: ${meta.engineDetail} · opening a Data API session: +${meta.latency.openSessionMs} ms · run took ${num(meta.durationMs / 60_000)} min.

Everything below ran in one process, on one local stack, in one run: \`npm run bench${meta.mode === 'quick' ? ' -- --quick' : ''}\` reruns it. Figures are medians over the repetitions, with the range of the runs where there was more than one.

## Headline

${headline(results)}

## Targets

${targetsSection(results)}

## 1. Cost of one execution (Spectra)

One query at a time, on a tenant with an idle session in its pool. Transitions are the history's \`*StateEntered\` events (what Step Functions bills); the requests are deltas of \`/_spectra/counters\` around the execution.

${perExecutionSection(results)}

## 2. Polling

Spectra long-polls (Submit Query waits up to ${meta.configuration.SPECTRA_SUBMIT_WAIT_SECONDS} s on the server, Poll Status up to ${meta.configuration.SPECTRA_POLL_WAIT_SECONDS} s, and the Choice skips the Wait when the server waited). The baselines are the public samples' loop: the same functions without long-polling (\`SPECTRA_SUBMIT_WAIT_SECONDS=0\`, \`SPECTRA_POLL_WAIT_SECONDS=0\`) and a Wait of a fixed ${plan.polling.fixedWaitsS.join(' or ')} s before every poll. Detection delay: from the statement's end (DescribeStatement's \`UpdatedAt\`) to the execution entering \`Release Session\`.

${pollingSection(results)}

How late a fixed loop sees the end depends on where the end falls between two of its polls: with one exact duration it would fall at the same place in every run, always just before a poll (lucky) or just after one (unlucky), while a user's queries end anywhere. So the repetitions of a case sleep slightly different durations (in brackets), spread evenly over one polling interval, and the median is the delay at a typical point between polls (a fixed N-second loop is N/2 s late on average, up to N s). A query shorter than the Wait needs no spread: the first poll after the Wait sees its end. Spectra's delay depends on none of this: the Data API answers its long-poll when the statement ends.

${chart('polling-transitions.svg', 'State transitions against query duration')}

${chart('polling-detection-delay.svg', 'Detection delay against query duration')}

## 3. Session reuse, one tenant, queries in a row

${plan.sequential.queries} queries (\`${plan.sequential.sql}\`) in a row for a new tenant, ×${plan.sequential.repetitions}; opening a session takes +${results.sequential.openSessionLatencyMs} ms. No reuse opens a session for every query (keep-alive 1 s, nothing kept in DynamoDB). Execution latency, StartExecution to the end:

${sequentialSection(results)}

${chart('sequential-latency.svg', 'Latency of each query in a row, with and without reuse')}

## 4. Concurrent multi-tenant workload

${c.queries} queries (\`${c.sql}\`) of ${c.tenants} tenants drawn with Zipf-skewed frequencies (s = ${c.zipfExponent}, seed ${c.seed}; the same sequence for every variant), ${c.concurrency} in flight at once, ×${c.repetitions}; each variant starts with no session open. The single cached session hands out the tenant's one session whatever its state, and when the Data API refuses it (\`Session is not available\`) drops it and opens a new one; no reuse opens a session per query. Hit rate: executions whose output says \`sessionReused\`, over all queries.${results.meta.poolRerunAt ? ` This phase and the next were run again alone (\`npm run bench -- --only pool\`) at ${results.meta.poolRerunAt}.` : ''}

${concurrentSection(results.variants)}

${concurrentNotes(results)}

${breakdownSection(results.variants.spectra)}

${chart('concurrent-latency.svg', 'p50 and p95 latency per session design')}

## 5. The pool under pressure

${pressureIntro(results)}

### A burst: ${plan.pressure.burst.queries} queries of one tenant at once

${concurrentSection(results.pressure.burst)}

### Many tenants: ${plan.pressure.manyTenants.tenants} tenants against the cluster's cap

${concurrentSection(results.pressure.manyTenants)}

${breakdownSection(results.pressure.manyTenants.spectra)}

${pressureNotes(results)}

## 6. Large results

\`${results.results?.sql ?? ''}\` for each size. End to end: the query through Spectra's state machine, StartExecution to SUCCEEDED, with the rows written to the results bucket. Then FetchResults reads the same statement's result again, in a process of its own (bench/fetch-results-child.ts), so that its memory is its own: Spectra's, which streams the pages through gzip into a multipart upload, and the baseline, which reads every page into memory, builds the whole gzip JSON Lines and writes it with one PutObject (same format, same gzip level). Time: first page request to the object in the bucket; MB/s: JSON Lines MB over that time. Memory: the child's peak resident set (the kernel's high-water mark, \`VmHWM\`) and its peak of V8's heap plus Buffers (sampled every 5 ms), each above the same process idle (modules loaded, one call made, garbage collected). Both count garbage V8 has not yet collected, which grows with the work done in a heap V8 is free to grow: so Spectra's FetchResults runs once more with V8's old space capped (\`--max-old-space-size\`), where it can finish only if what it holds is bounded; that run is not timed against the baseline, since GC works harder in a small heap.${results.meta.resultsRerunAt ? ` This phase was run again alone (\`npm run bench -- --only results\`) at ${results.meta.resultsRerunAt}.` : ''}

${resultsSection(results)}

## 7. Packaging

Each function bundled as the CDK app bundles it (infra/bundling.ts through scripts/bundle-functions.ts); cold initialisation is the time a fresh Node ${meta.node} process takes to import the bundle, with the environment the deployment sets (\`NODE_OPTIONS=--enable-source-maps\`, Powertools, the \`SPECTRA_*\` variables), median of ${plan.bundles.initRuns}. Measured on this machine, not on Lambda: a 256 MB Lambda has a fraction of a core.

${bundlesSection(results)}
`;
}
