import { spawn } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CONFIG_TABLE, CONFIG_VARIABLES } from '../../functions/common/config-table.ts';
import { FUNCTIONS } from '../../functions/registry.ts';
import { bundleFunction } from '../../scripts/bundle-functions.ts';
import type { BundleRow } from '../model.ts';
import { median } from '../stats.ts';
import { ms } from './context.ts';

/**
 * Phase 5: each function bundled exactly as the CDK app bundles it (scripts/bundle-functions.ts
 * with infra/bundling.ts's options), its size, and its cold initialisation: a fresh Node process
 * that imports the bundle with the environment the deployment gives the function. The bundles
 * build their clients and check their configuration when loaded, which is what a cold start pays
 * for before the first invocation.
 */

/** The environment of a deployed function (infra/constructs/spectra-function.ts and the stack). */
async function deploymentEnvironment(functionName: string): Promise<Record<string, string>> {
  // Loaded here, not at the top: infra/ pulls in aws-cdk-lib, which only this phase needs.
  const { resolveSettings } = await import('../../infra/parameters.ts');
  // The functions' logger and metrics are built on import, with the environment of that moment.
  const { METRICS_NAMESPACE, SERVICE_NAME } = await import(
    '../../functions/common/observability.ts'
  );
  const settings = resolveSettings({ clusterIdentifier: 'spectra-bench' });
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    // What the Lambda runtime sets.
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_LAMBDA_FUNCTION_NAME: `spectra-${functionName}`,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
    // What the stack sets.
    NODE_OPTIONS: '--enable-source-maps',
    POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
    POWERTOOLS_LOG_LEVEL: settings.logLevel,
    POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
    ...settings.environment,
    [CONFIG_VARIABLES.table]: CONFIG_TABLE.table.default,
  };
}

/** The child imports the bundle and reports how long the import took, on its own clock. */
const IMPORT_SCRIPT = `
const started = performance.now();
await import(process.env.BENCH_BUNDLE_URL);
process.stdout.write(JSON.stringify({ initMs: performance.now() - started }));
`;

function coldStart(
  file: string,
  environment: Record<string, string>,
): Promise<{ initMs: number; processMs: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', IMPORT_SCRIPT], {
      env: { ...environment, BENCH_BUNDLE_URL: pathToFileURL(file).href },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.once('error', reject);
    child.once('close', (code) => {
      const processMs = performance.now() - started;
      // The bundle's own log lines (if any) come first; the report is the last line.
      const report = stdout.trim().split('\n').at(-1) ?? '';
      if (code !== 0 || !report.startsWith('{')) {
        reject(new Error(`Importing ${file} failed (exit ${code}): ${stderr.trim() || stdout}`));
        return;
      }
      resolve({ initMs: (JSON.parse(report) as { initMs: number }).initMs, processMs });
    });
  });
}

export async function runBundles(
  plan: { functions: string[]; initRuns: number },
  log: (line: string) => void,
): Promise<BundleRow[]> {
  const all = FUNCTIONS.filter(
    (fn) => plan.functions.length === 0 || plan.functions.includes(fn.name),
  );
  const outRoot = await mkdtemp(join(tmpdir(), 'spectra-bench-bundles-'));
  try {
    const bundles = [];
    for (const fn of all) {
      const file = await bundleFunction(fn.entry, join(outRoot, fn.name));
      const bytes = (await stat(file)).size;
      const mapBytes = (await stat(`${file}.map`).catch(() => ({ size: 0 }))).size;
      bundles.push({
        fn,
        file,
        bytes,
        mapBytes,
        environment: await deploymentEnvironment(fn.name),
      });
    }
    const runs = new Map<string, { initMs: number; processMs: number }[]>();
    // Round robin over the functions, so that a burst of load on the machine hits all of them alike.
    for (let run = 0; run < plan.initRuns; run++) {
      for (const bundle of bundles) {
        const sample = await coldStart(bundle.file, bundle.environment);
        runs.set(bundle.fn.name, [...(runs.get(bundle.fn.name) ?? []), sample]);
      }
    }
    return bundles.map((bundle) => {
      const samples = runs.get(bundle.fn.name) ?? [];
      const row: BundleRow = {
        function: bundle.fn.name,
        bytes: bundle.bytes,
        mapBytes: bundle.mapBytes,
        initMs: median(samples.map((s) => s.initMs)),
        initRunsMs: samples.map((s) => s.initMs),
        processMs: median(samples.map((s) => s.processMs)),
      };
      log(
        `  ${row.function.padEnd(24)} ${String(row.bytes).padStart(9)} bytes, cold init ${ms(row.initMs)} (median of ${samples.length}; process ${ms(row.processMs)})`,
      );
      return row;
    });
  } finally {
    await rm(outRoot, { recursive: true, force: true });
  }
}
