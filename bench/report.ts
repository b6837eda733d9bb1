import type { BenchResults } from './model.ts';
import { num } from './report/format.ts';
import { perExecutionSection, pollingSection, sequentialSection } from './report/one-at-a-time.ts';
import {
  breakdownSection,
  concurrentNotes,
  concurrentSection,
  pressureIntro,
  pressureNotes,
} from './report/pool.ts';
import { bundlesSection, resultsSection } from './report/results-and-bundles.ts';
import { headline, targetsSection } from './report/summary.ts';

/**
 * Which parts were measured again since the run (`--only`): their figures, and the baselines they
 * are compared with, come from that later run, so a reader must know the date differs.
 */
function rerunNote(meta: BenchResults['meta']): string {
  const parts = [
    ['the pool (sections 4 and 5, `--only pool`)', meta.poolRerunAt],
    ['the large results (`--only results`)', meta.resultsRerunAt],
    ['the packaging (`--only bundles`)', meta.bundlesRerunAt],
  ].filter((part): part is [string, string] => part[1] !== undefined);
  if (parts.length === 0) return '';
  const list = parts.map(([part, at]) => `${part} at ${at}`).join('; ');
  return ` Measured again since, each part in a run of its own with its baselines: ${list}.`;
}

/** The results as Markdown: the headline, the targets, then one section per phase. */

export function renderMarkdown(results: BenchResults, chartPrefix = ''): string {
  const { meta } = results;
  const plan = meta.plan;
  const c = plan.concurrent;
  const chart = (file: string, alt: string) => `![${alt}](${chartPrefix}${file})`;
  return `# Spectra benchmark (${meta.mode})

${meta.date} · Node ${meta.node} · ${meta.machine.cpus} × ${meta.machine.cpuModel}, ${meta.machine.memoryGiB} GiB, ${meta.machine.platform}/${meta.machine.arch} · SQL engine: ${meta.engineDetail} · opening a Data API session: +${meta.latency.openSessionMs} ms · run took ${num(meta.durationMs / 60_000)} min.

Everything below ran in one process, on one local stack, in one run: \`npm run bench${meta.mode === 'quick' ? ' -- --quick' : ''}\` reruns it. Figures are medians over the repetitions, with the range of the runs where there was more than one.${rerunNote(meta)}

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

${breakdownSection(results.variants.spectra, c.concurrency)}

${chart('concurrent-latency.svg', 'p50 and p95 latency per session design')}

## 5. The pool under pressure

${pressureIntro(results)}

### A burst: ${plan.pressure.burst.queries} queries of one tenant at once

${concurrentSection(results.pressure.burst)}

### Many tenants: ${plan.pressure.manyTenants.tenants} tenants against the cluster's cap

${concurrentSection(results.pressure.manyTenants)}

${breakdownSection(results.pressure.manyTenants.spectra, plan.pressure.manyTenants.concurrency)}

${pressureNotes(results)}

## 6. Large results

\`${results.results?.sql ?? ''}\` for each size. End to end: the query through Spectra's state machine, StartExecution to SUCCEEDED, with the rows written to the results bucket. Then FetchResults reads the same statement's result again, in a process of its own (bench/fetch-results-child.ts), so that its memory is its own: Spectra's, which streams the pages through gzip into a multipart upload, and the baseline, which reads every page into memory, builds the whole gzip JSON Lines and writes it with one PutObject (same format, same gzip level). Time: first page request to the object in the bucket; MB/s: JSON Lines MB over that time. Memory: the child's peak resident set (the kernel's high-water mark, \`VmHWM\`) and its peak of V8's heap plus Buffers (sampled every 5 ms), each above the same process idle (modules loaded, one call made, garbage collected). Both count garbage V8 has not yet collected, which grows with the work done in a heap V8 is free to grow: so Spectra's FetchResults runs once more with V8's old space capped (\`--max-old-space-size\`), where it can finish only if what it holds is bounded; that run is not timed against the baseline, since GC works harder in a small heap.${results.meta.resultsRerunAt ? ` This phase was run again alone (\`npm run bench -- --only results\`) at ${results.meta.resultsRerunAt}.` : ''}

${resultsSection(results)}

## 7. Packaging

Each function bundled as the CDK app bundles it (infra/bundling.ts through scripts/bundle-functions.ts); cold initialisation is the time a fresh Node ${meta.node} process takes to import the bundle, with the environment the deployment sets (\`NODE_OPTIONS=--enable-source-maps\`, Powertools, the \`SPECTRA_*\` variables), median of ${plan.bundles.initRuns}. Measured on this machine, not on Lambda: a 256 MB Lambda has a fraction of a core.${results.meta.bundlesRerunAt ? ` This phase was run again alone (\`npm run bench -- --only bundles\`) at ${results.meta.bundlesRerunAt}.` : ''}

${bundlesSection(results)}
`;
}
