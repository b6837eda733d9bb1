import { Buffer } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { s3Client } from '../functions/common/clients.ts';
import { defaultDeps } from '../functions/common/deps.ts';
import type { QueryResult } from '../functions/common/execution-output.ts';
import {
  parseS3Uri,
  type ResultManifest,
  resultKeyPrefix,
} from '../functions/common/result-store.ts';
import { type ResultRow, toResultValue } from '../functions/common/results.ts';
import type { SubmittedState } from '../functions/common/workflow-state.ts';
import { functionSpec, loadHandler } from '../functions/registry.ts';
import { lambdaContext } from '../local/stepfunctions/lambda-invoker.ts';

/**
 * One FetchResults, alone in this process, so that its memory is its own: the benchmark's
 * results phase (bench/phases/results.ts) runs it once per variant and size against the local
 * stack of the parent process, which holds the statement's result.
 *
 * - `spectra`: the real function, as Lambda runs it (its handler on its module's deps, the
 *   environment's config).
 * - `baseline`: what a FetchResults without streaming does: every page read into an array, the
 *   whole gzip JSON Lines built in memory (the same format and gzip level), one PutObject.
 *
 * Prints one JSON line: the time from the first page request to the result being in the bucket,
 * the process's idle and peak memory, and the bytes written.
 *
 * Memory: the kernel's high-water mark of this process's resident set (`VmHWM` in
 * /proc/self/status, which nothing can miss; not `resourceUsage().maxRSS`, which Linux carries
 * over from the parent that forked the child), and V8's heap plus the memory outside it
 * (Buffers), sampled every 5 ms. Both count garbage V8 has not collected yet; the phase also runs
 * Spectra's FetchResults with V8's heap capped, which it survives only if what it holds is bounded.
 */

interface ChildInput {
  variant: 'spectra' | 'baseline';
  statementId: string;
  executionArn: string;
}

const input = JSON.parse(process.argv[2] ?? '{}') as ChildInput;
/** The peak resident set of this process image, or the current one where /proc has none. */
const rssHighWaterBytes = () => {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const kilobytes = /^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1];
    if (kilobytes !== undefined) return Number(kilobytes) * 1024;
  } catch {
    // Not Linux: the sampled current RSS below stands in.
  }
  return peakRss;
};
let peakRss = process.memoryUsage().rss;
const heldBytes = () => {
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.external;
};

async function baseline(): Promise<{ rows: number; bytes: number; uncompressedBytes: number }> {
  const rows: ResultRow[] = [];
  let nextToken: string | undefined;
  do {
    const page = await defaultDeps.dataApi.resultPage(input.statementId, nextToken);
    for (const record of page.records) rows.push(record.map(toResultValue));
    nextToken = page.nextToken;
  } while (nextToken !== undefined);
  const text = rows.map((row) => `${JSON.stringify(row)}\n`).join('');
  const body = gzipSync(text, { level: 1 });
  await s3Client.send(
    new PutObjectCommand({
      Bucket: defaultDeps.config.resultsBucketName,
      Key: `${resultKeyPrefix(input.executionArn, input.statementId)}rows.jsonl.gz`,
      Body: body,
    }),
  );
  return { rows: rows.length, bytes: body.length, uncompressedBytes: Buffer.byteLength(text) };
}

async function spectra(): Promise<{ rows: number; bytes: number; location?: string }> {
  const state: SubmittedState = {
    executionArn: input.executionArn,
    query: {
      tenantId: 'bench',
      dbUser: 'tenant_bench',
      leavesSessionState: false,
      timeoutSeconds: 3600,
      deadline: new Date(Date.now() + 3600_000).toISOString(),
    },
    session: { sessionId: null, reused: false },
    submitAttempt: 0,
    resubmits: 0,
    historyEventsBound: 0,
    statement: {
      statementId: input.statementId,
      status: 'FINISHED',
      waitSeconds: 0,
      polls: 0,
      hasResultSet: true,
    },
  };
  const deadline = Date.now() + functionSpec('FetchResults').timeoutSeconds * 1000;
  const output = (await fetchResultsHandler(
    state,
    lambdaContext('FetchResults', randomUUID(), deadline),
  )) as QueryResult;
  return {
    rows: output.result?.rows ?? output.rowCount,
    bytes: output.result?.bytes ?? 0,
    location: output.result?.location,
  };
}

/** The JSON Lines' size of a written result, from its manifest (read after the clock stopped). */
async function uncompressedBytesOf(location: string): Promise<number> {
  const { bucket, key } = parseS3Uri(location) as { bucket: string; key: string };
  const object = await s3Client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const manifest = JSON.parse(await (object.Body?.transformToString() ?? '{}')) as ResultManifest;
  return manifest.uncompressedBytes;
}

// Idle: the modules loaded, the clients built, one small call made, the garbage collected.
const fetchResultsHandler = await loadHandler('FetchResults');
await defaultDeps.dataApi.describe(input.statementId, 0);
globalThis.gc?.();
const idleRss = process.memoryUsage().rss;
const idleHeld = heldBytes();
let peakHeld = idleHeld;
const sampler = setInterval(() => {
  peakHeld = Math.max(peakHeld, heldBytes());
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 5);

const started = performance.now();
const written = input.variant === 'spectra' ? await spectra() : await baseline();
const seconds = (performance.now() - started) / 1000;
clearInterval(sampler);
peakHeld = Math.max(peakHeld, heldBytes());

const peakRssBytes = rssHighWaterBytes();
const { location, ...counts } = written as typeof written & { location?: string };
const uncompressedBytes =
  'uncompressedBytes' in counts
    ? counts.uncompressedBytes
    : location === undefined
      ? 0
      : await uncompressedBytesOf(location);
process.stdout.write(
  `${JSON.stringify({
    ...counts,
    uncompressedBytes,
    seconds,
    idleRssBytes: idleRss,
    peakRssBytes,
    idleHeldBytes: idleHeld,
    peakHeldBytes: peakHeld,
  })}\n`,
);
process.exit(0);
