import diagnostics from 'node:diagnostics_channel';
import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { startBenchStack } from '../benchmark.ts';
import { formatPath, prepareWorkload, runVariant } from '../phases/concurrent.ts';
import { type ConcurrentVariant, latencyBreakdown } from '../phases/concurrent-figures.ts';
import { FULL_PLAN } from '../plan.ts';
import { percentile } from '../stats.ts';

/**
 * Where the concurrent workload's time goes on the local stack, which runs every emulated service
 * and this driver on one Node event loop, and the functions on it too unless they are on threads.
 * For each variant run once from cold:
 *
 * - the event loop's delay (`monitorEventLoopDelay`): how long a callback that is ready waits
 *   before it runs, which every request and timer pays;
 * - per service operation (X-Amz-Target), the time from the client's send to the response's
 *   headers, beside the time the server took from the request's headers to its last byte: the
 *   difference is time spent waiting for the loop, not in the service;
 * - the CPU the process used per query.
 *
 * Both sides of every request are seen through Node's HTTP diagnostics channels, so nothing in the
 * stack or the functions is changed to measure it. For where the CPU goes, run it under
 * `--cpu-prof`:
 *
 *   npx tsx bench/experiments/concurrent-profile.ts [--queries 300] [--variants spectra,noReuse]
 *     [--workload concurrent|manyTenants] [--function-threads 2]
 *
 * With `--function-threads` the functions run on worker threads (local/stepfunctions/
 * function-threads.ts): their HTTP requests then leave from those threads, which this thread's
 * diagnostics channels do not see, so the client-side column covers only the driver's requests,
 * and the CPU per query (the process's) includes the threads'.
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/experiments/concurrent-profile.ts
 */

const { values } = parseArgs({
  options: {
    queries: { type: 'string', default: String(FULL_PLAN.concurrent.queries) },
    variants: { type: 'string', default: 'spectra,noReuse' },
    workload: { type: 'string', default: 'concurrent' },
    // Worker threads for every variant's functions (0: in process, as the stack's default).
    'function-threads': { type: 'string', default: '0' },
  },
});
const functionThreads = Number(values['function-threads']);
const workloadName = values.workload === 'manyTenants' ? 'manyTenants' : 'concurrent';
const variants = values.variants.split(',') as ConcurrentVariant[];
const plan = {
  ...FULL_PLAN,
  concurrent: { ...FULL_PLAN.concurrent, queries: Number(values.queries) },
};
const workload =
  workloadName === 'manyTenants'
    ? { ...plan.pressure.manyTenants, queries: Number(values.queries) }
    : plan.concurrent;

interface Timing {
  clientMs: number[];
  serverMs: number[];
}
const timings = new Map<string, Timing>();
const timingOf = (target: string) => {
  let timing = timings.get(target);
  if (!timing) {
    timing = { clientMs: [], serverMs: [] };
    timings.set(target, timing);
  }
  return timing;
};
/**
 * Between the variant's first StartExecution and the first read of a history (runVariant reads
 * the executions back once every one has ended): its clean start and its read-back are left out.
 */
let measuring = false;
let driving = false;
const stalls: number[] = [];
let lastTick = performance.now();
const stallWatch = setInterval(() => {
  const now = performance.now();
  if (driving && now - lastTick > 100 + 5) stalls.push(now - lastTick - 5);
  lastTick = now;
}, 5);
stallWatch.unref();
const delay = monitorEventLoopDelay({ resolution: 10 });
let loopBefore = performance.eventLoopUtilization();
let drivenFor = 0;
function drive(target: string) {
  if (!measuring) return;
  if (!driving && target.endsWith('.StartExecution') && drivenFor === 0) {
    driving = true;
    delay.reset();
    delay.enable();
    loopBefore = performance.eventLoopUtilization();
    drivenFor = performance.now();
  } else if (driving && target.endsWith('.GetExecutionHistory')) {
    driving = false;
    delay.disable();
    loopBefore = performance.eventLoopUtilization(loopBefore);
    drivenFor = performance.now() - drivenFor;
  }
}
const clientSent = new WeakMap<ClientRequest, number>();
const serverStarted = new WeakMap<ServerResponse, { at: number; target: string }>();
diagnostics.subscribe('http.client.request.start', (message) => {
  const { request } = message as { request: ClientRequest };
  drive(String(request.getHeader('x-amz-target') ?? ''));
  if (driving) clientSent.set(request, performance.now());
});
diagnostics.subscribe('http.client.response.finish', (message) => {
  const { request } = message as { request: ClientRequest; response: IncomingMessage };
  const sent = clientSent.get(request);
  if (sent === undefined) return;
  const target = String(request.getHeader('x-amz-target') ?? `${request.method} (S3)`);
  timingOf(target).clientMs.push(performance.now() - sent);
});
diagnostics.subscribe('http.server.request.start', (message) => {
  if (!driving) return;
  const { request, response } = message as { request: IncomingMessage; response: ServerResponse };
  const target = String(request.headers['x-amz-target'] ?? `${request.method} (S3)`);
  serverStarted.set(response, { at: performance.now(), target });
});
diagnostics.subscribe('http.server.response.finish', (message) => {
  const { response } = message as { response: ServerResponse };
  const started = serverStarted.get(response);
  if (started) timingOf(started.target).serverMs.push(performance.now() - started.at);
});

const log = (line: string) => console.log(line);
const bench = await startBenchStack(plan, log, { functionThreads });
try {
  const { context } = bench;
  const sequence = await prepareWorkload(context, workload, workloadName);
  const machineOf: Record<ConcurrentVariant, string> = {
    spectra: context.machines.spectra,
    singleSession: context.machines.singleSession,
    noReuse: context.machines.noReuse,
  };
  console.log(
    `${cpus().length} cores, load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  for (const variant of variants) {
    timings.clear();
    measuring = true;
    drivenFor = 0;
    stalls.length = 0;
    const run = await runVariant(context, variant, machineOf[variant], sequence, workload);
    const loop = loopBefore;
    measuring = false;
    const msOf = (ns: number) => (ns / 1e6).toFixed(1);
    console.log(
      `\n${variant}: p50 ${run.p50Ms.toFixed(0)} ms, p95 ${run.p95Ms.toFixed(0)} ms, hit rate ${(run.hits / run.queries).toFixed(3)}, ` +
        `${(run.dynamodbRequests / run.queries).toFixed(2)} DynamoDB requests per query, ` +
        `${(run.cpuMs / run.queries).toFixed(1)} ms CPU per query, ` +
        `${((run.cpuMs / run.wallMs) * 100).toFixed(0)}% of a core, load ${loadavg()[0]?.toFixed(2)}`,
    );
    const m = run.misses;
    console.log(
      `  misses: ${m.cold} cold, ${m.concurrency} concurrency, ${m.rejected} rejected, ${m.other} other; ${run.sessionsOpened} sessions opened`,
    );
    // Where in the sequence the tail is: a run from cold starts with every query in flight opening
    // a session, so positions near 0 are that first wave.
    const slowest = run.samples.flatMap((sample, position) =>
      sample.latencyMs >= run.p95Ms ? [`${position} ${sample.path}`] : [],
    );
    console.log(`  the slowest 5%, by position in the sequence: ${slowest.join(', ')}`);
    const breakdown = latencyBreakdown(run.samples);
    for (const [part, paths] of [
      ['every query', breakdown.all],
      ['the slowest 5%', breakdown.tail],
    ] as const)
      for (const path of paths) console.log(`  ${part}: ${formatPath(path)}`);
    console.log(
      `  main event loop: busy ${(loop.active / run.queries).toFixed(1)} ms per query, ${(loop.utilization * 100).toFixed(0)}% of the time`,
    );
    console.log(
      `  event-loop delay: p50 ${msOf(delay.percentile(50))} ms, p90 ${msOf(delay.percentile(90))} ms, ` +
        `p99 ${msOf(delay.percentile(99))} ms, max ${msOf(delay.max)} ms (a timer every 10 ms: 10 is none); ` +
        `${stalls.length} stalls over 100 ms (longest ${Math.round(Math.max(0, ...stalls))} ms) in ${(drivenFor / 1000).toFixed(1)} s`,
    );
    const rows = [...timings.entries()].sort((a, b) => b[1].clientMs.length - a[1].clientMs.length);
    console.log('  operation: count, client send→headers p50/p95, server headers→end p50/p95 (ms)');
    for (const [target, timing] of rows) {
      if (timing.clientMs.length < run.queries / 20) continue;
      const fmt = (list: number[]) =>
        `${percentile(list, 50).toFixed(1)}/${percentile(list, 95).toFixed(1)}`;
      console.log(
        `  ${target.padEnd(44)} ${String(timing.clientMs.length).padStart(6)}  client ${fmt(timing.clientMs).padStart(12)}  server ${fmt(timing.serverMs).padStart(12)}`,
      );
    }
  }
} finally {
  await bench.stop();
}
process.exit(0);
