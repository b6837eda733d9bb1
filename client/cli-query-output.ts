import { EXIT_FAILED, InterruptedError } from './cli-exit.ts';
import type { GlobalOptions, OutputOptions } from './cli-input.ts';
import type { CliOutput } from './cli-output.ts';
import { ProgressLine } from './cli-output.ts';
import { openSink, progressReporter, type RowFormat, writeResult } from './cli-results.ts';
import { failureOf, type Query, type ReadableResult, type SpectraClient } from './index.ts';
import { escapeMessage } from './terminal-text.ts';

/**
 * What the commands that read a query share: waiting for it with the progress line (Ctrl+C stops
 * the wait, not the query), then printing its rows or reporting how it failed, with a link to the
 * local console's page of the execution.
 */

/** Points at the local console's page of the execution, when the client talks to a local stack. */
export function noteConsoleLink(
  client: SpectraClient,
  executionArn: string,
  output: CliOutput,
): void {
  const link = client.consoleLink(executionArn);
  if (link !== undefined) output.note(`Console: ${link}`);
}

/** Reports a query that did not succeed, and sets exit code 1. */
export function reportFailedQuery(
  client: SpectraClient,
  query: Query,
  globals: GlobalOptions,
  output: CliOutput,
): void {
  const failure = failureOf(query) ?? { errorName: 'QueryFailedError', message: 'No result' };
  output.note(escapeMessage(`${failure.errorName}: ${failure.message}`));
  noteConsoleLink(client, query.executionArn, output);
  if (globals.json) {
    output.json({
      error: failure.errorName,
      message: failure.message,
      executionArn: query.executionArn,
      status: query.status,
      cause: query.cause,
    });
  }
  output.exitCode = EXIT_FAILED;
}

/** Prints every row, in the format the options ask for, or the result's presigned URL. */
export async function printResult(
  result: ReadableResult,
  globals: GlobalOptions,
  options: OutputOptions,
  output: CliOutput,
): Promise<void> {
  if (options.url) {
    output.line(await result.presignedUrl({ expiresInSeconds: options.expiresIn }));
    return;
  }
  const format: RowFormat = globals.json
    ? 'json'
    : options.csv
      ? 'csv'
      : options.jsonl
        ? 'jsonl'
        : 'table';
  const { sink, done } = await openSink(output, format, options.output);
  const rows = await writeResult(result, format, sink, progressReporter(output));
  await done;
  if (options.output !== undefined) output.note(`Wrote ${rows} rows to ${options.output}`);
}

/** Waits for the query with the progress line; Ctrl+C stops waiting and leaves the query running. */
export async function waitWithProgress(
  client: SpectraClient,
  executionArn: string,
  output: CliOutput,
): Promise<Query> {
  const progress = new ProgressLine(output.streams.stderr);
  const interrupt = new AbortController();
  const onSigint = () => interrupt.abort();
  process.once('SIGINT', onSigint);
  progress.start();
  try {
    return await client.waitForQuery(executionArn, {
      signal: interrupt.signal,
      // Reading the current state costs a history call per poll; only a terminal shows it.
      onProgress: progress.enabled ? (p) => progress.update(p) : undefined,
    });
  } catch (error) {
    if (interrupt.signal.aborted) throw new InterruptedError(executionArn);
    throw error;
  } finally {
    progress.stop();
    process.off('SIGINT', onSigint);
  }
}

/** Waits for the query, then prints its rows, or reports how it failed (exit code 1). */
export async function waitAndPrint(
  client: SpectraClient,
  executionArn: string,
  globals: GlobalOptions,
  options: OutputOptions,
  output: CliOutput,
): Promise<void> {
  const query = await waitWithProgress(client, executionArn, output);
  if (query.status === 'SUCCEEDED' && query.result)
    await printResult(query.result, globals, options, output);
  else reportFailedQuery(client, query, globals, output);
}
