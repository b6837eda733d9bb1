import { inspect } from 'node:util';
import { CommanderError } from 'commander';
import { UsageError } from './cli-input.ts';
import type { CliOutput } from './cli-output.ts';
import {
  ClientConfigurationError,
  InvalidInputError,
  QueryExecutionError,
  SpectraClientError,
  SpectraConnectionError,
} from './errors.ts';
import { escapeMessage } from './terminal-text.ts';

/**
 * How a run of the CLI ends: its exit codes, the help text that lists them, and how an error a
 * command threw is reported and turned into one.
 */

export const EXIT_DONE = 0;
export const EXIT_FAILED = 1;
const EXIT_USAGE = 2;
/** Nothing answered at the endpoint: not the query's fault, and worth a retry or a look. */
const EXIT_UNREACHABLE = 3;
/** What a shell reports for a process ended by Ctrl+C. */
const EXIT_INTERRUPTED = 130;

export const EXIT_CODES_HELP = `
Exit codes:
  ${EXIT_DONE}    done (for status: whatever the status it shows)
  ${EXIT_FAILED}    the query failed or was cancelled, the execution does not exist, or it cannot be redriven
  ${EXIT_USAGE}    bad usage: an unknown option, a missing or malformed value, input the query contract refuses
  ${EXIT_UNREACHABLE}    the endpoint could not be reached (is the local stack running? the network?)
  ${EXIT_INTERRUPTED}  Ctrl+C while waiting; the query goes on`;

/** Ctrl+C while waiting for a query: the run ends, the query goes on. */
export class InterruptedError extends Error {
  constructor(readonly executionArn: string) {
    super(`Stopped waiting for ${executionArn}`);
    this.name = 'InterruptedError';
  }
}

/**
 * Reports an error a command threw on stderr (and as JSON on stdout with `--json`), and returns
 * the exit code it means.
 */
export function exitCodeOfError(error: unknown, output: CliOutput, json: boolean): number {
  if (error instanceof CommanderError) {
    // Commander has printed the message (or the help) already.
    return error.exitCode === 0 ? EXIT_DONE : EXIT_USAGE;
  }
  if (
    error instanceof UsageError ||
    error instanceof InvalidInputError ||
    error instanceof ClientConfigurationError
  ) {
    output.note(`error: ${escapeMessage(error.message)}\n(add --help for usage)`);
    return EXIT_USAGE;
  }
  if (error instanceof InterruptedError) {
    output.note(
      `Stopped waiting; the query goes on. Read it later with: spectra results ${error.executionArn}\n` +
        `or stop it with: spectra cancel ${error.executionArn}`,
    );
    return EXIT_INTERRUPTED;
  }
  const name = error instanceof Error ? error.name : 'Error';
  const message = error instanceof Error ? error.message : String(error);
  // A service's message can quote the request (a name, an ARN, SQL), so it is escaped too.
  output.note(escapeMessage(`${name}: ${message}`));
  if (json) {
    const extra = error instanceof QueryExecutionError ? { status: error.status } : {};
    output.json({ error: name, message, ...extra });
  }
  if (!(error instanceof SpectraClientError) && process.env.SPECTRA_DEBUG) {
    output.note(escapeMessage(inspect(error)));
  }
  return error instanceof SpectraConnectionError ? EXIT_UNREACHABLE : EXIT_FAILED;
}
