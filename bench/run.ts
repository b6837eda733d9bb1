import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rerunPart, runBenchmark } from './benchmark.ts';
import { renderCharts } from './charts.ts';
import type { BenchResults } from './model.ts';
import { parseCommandLine, USAGE } from './plan.ts';
import { renderMarkdown } from './report.ts';

/**
 * `npm run bench` (full: bench/results/latest.*) and `npm run bench -- --quick` (under a minute:
 * bench/results/quick.*, so that a check never overwrites the committed results).
 */

const resultsDir = resolve(fileURLToPath(new URL('./results', import.meta.url)));

/** Writes the JSON, the Markdown and the charts; returns the paths written. */
export async function writeResults(
  results: BenchResults,
  outDir: string,
  options: { json?: boolean } = {},
): Promise<string[]> {
  const name = results.meta.mode === 'full' ? 'latest' : results.meta.mode;
  // Quick and custom runs prefix their charts too, so that the committed ones stay as they are.
  const chartPrefix = results.meta.mode === 'full' ? '' : `${name}-`;
  await mkdir(outDir, { recursive: true });
  const written: string[] = [];
  const write = async (file: string, content: string) => {
    const path = join(outDir, file);
    await writeFile(path, content);
    written.push(path);
  };
  if (options.json !== false) await write(`${name}.json`, `${JSON.stringify(results, null, 2)}\n`);
  await write(`${name}.md`, renderMarkdown(results, chartPrefix));
  for (const [file, svg] of Object.entries(await renderCharts(results))) {
    await write(`${chartPrefix}${file}`, svg);
  }
  return written;
}

async function main(): Promise<void> {
  let commandLine: ReturnType<typeof parseCommandLine>;
  try {
    commandLine = parseCommandLine(process.argv.slice(2), resultsDir);
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (commandLine.help) {
    console.log(USAGE);
    return;
  }
  const { plan, outDir } = commandLine;
  if (commandLine.render) {
    const results = JSON.parse(await readFile(commandLine.render, 'utf8')) as BenchResults;
    // The JSON is kept as it was; only its renderings are written again.
    const written = await writeResults(results, outDir, { json: false });
    console.log(`Wrote ${written.join(', ')}`);
    return;
  }
  const started = performance.now();
  const elapsed = () => `${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s`;
  console.log(`Spectra benchmark, ${plan.mode} mode`);
  const log = (line: string) => console.log(`[${elapsed()}] ${line}`);
  const earlier = join(outDir, `${plan.mode === 'full' ? 'latest' : plan.mode}.json`);
  const results = commandLine.only
    ? await rerunPart(
        plan,
        JSON.parse(await readFile(earlier, 'utf8')) as BenchResults,
        commandLine.only,
        {
          log,
        },
      )
    : await runBenchmark(plan, { log });
  const written = await writeResults(results, outDir);

  console.log(`\nTargets:`);
  for (const target of results.targets) {
    const verdict = target.met === null ? 'not measured' : target.met ? 'met' : 'MISSED';
    console.log(
      `  ${verdict.padEnd(12)} ${target.description}: ${target.actual} (target ${target.target})`,
    );
  }
  console.log(`\nWrote ${written.map((path) => path.replace(`${process.cwd()}/`, '')).join(', ')}`);
  console.log(`Done in ${elapsed().trim()}.`);
}

const invokedDirectly =
  process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  try {
    await main();
  } catch (error) {
    console.error(error);
    process.exitCode = 1;
  }
  // The SDK's keep-alive sockets and PGlite's worker would hold the process open for a while.
  process.exit(process.exitCode ?? 0);
}
