import { inspect } from 'node:util';
import { Command, CommanderError } from 'commander';
import {
  addQueryOptions,
  checkedBy,
  positiveInteger,
  type QueryOptions,
  requestOf,
  UsageError,
} from './cli-input.ts';
import { CliOutput, type CliStreams, ProgressLine, processStreams } from './cli-output.ts';
import { openSink, progressReporter, type RowFormat, writeResult } from './cli-results.ts';
import { endpointProblem, regionProblem } from './connection.ts';
import {
  ClientConfigurationError,
  InvalidInputError,
  QueryExecutionError,
  QueryNotFinishedError,
  SpectraClientError,
  SpectraConnectionError,
} from './errors.ts';
import {
  formatDateTime,
  formatHistory,
  formatRelative,
  formatStatus,
  formatTable,
} from './format.ts';
import { failureOf, type Query, type ReadableResult, SpectraClient } from './index.ts';
import { escapeMessage } from './terminal-text.ts';

/**
 * `spectra`: the command line of the Spectra client. Every command takes `--endpoint` and
 * `--region` as the AWS CLI does, and `--json` for scripts. Exit codes: {@link EXIT_CODES_HELP}.
 *
 * `bin/spectra.mjs` runs {@link main} on the process's arguments and streams; importing this
 * module runs nothing, so a program or a test can call `main` with streams of its own.
 */

const EXIT_DONE = 0;
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;
/** Nothing answered at the endpoint: not the query's fault, and worth a retry or a look. */
const EXIT_UNREACHABLE = 3;
/** What a shell reports for a process ended by Ctrl+C. */
const EXIT_INTERRUPTED = 130;

const EXIT_CODES_HELP = `
Exit codes:
  ${EXIT_DONE}    done (for status: whatever the status it shows)
  ${EXIT_FAILED}    the query failed or was cancelled, the execution does not exist, or it cannot be redriven
  ${EXIT_USAGE}    bad usage: an unknown option, a missing or malformed value, input the query contract refuses
  ${EXIT_UNREACHABLE}    the endpoint could not be reached (is the local stack running? the network?)
  ${EXIT_INTERRUPTED}  Ctrl+C while waiting; the query goes on`;

interface GlobalOptions {
  endpoint?: string;
  region?: string;
  json?: boolean;
}

interface OutputOptions {
  csv?: boolean;
  jsonl?: boolean;
  output?: string;
  url?: boolean;
  expiresIn?: number;
}

/** Ctrl+C while waiting for a query: the run ends, the query goes on. */
class InterruptedError extends Error {
  constructor(readonly executionArn: string) {
    super(`Stopped waiting for ${executionArn}`);
    this.name = 'InterruptedError';
  }
}

/** Points at the local console's page of the execution, when the client talks to a local stack. */
function noteConsoleLink(client: SpectraClient, executionArn: string, output: CliOutput): void {
  const link = client.consoleLink(executionArn);
  if (link !== undefined) output.note(`Console: ${link}`);
}

/** Reports a query that did not succeed, and sets exit code 1. */
function reportFailedQuery(
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
async function printResult(
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

function checkOutputOptions(globals: GlobalOptions, output: OutputOptions): void {
  const formats = [globals.json && '--json', output.csv && '--csv', output.jsonl && '--jsonl'];
  const chosen = formats.filter((format): format is string => typeof format === 'string');
  if (chosen.length > 1)
    throw new UsageError(`choose one of --json, --csv and --jsonl; got ${chosen.join(' and ')}`);
  if (output.url && (chosen.length > 0 || output.output !== undefined))
    throw new UsageError('--url prints a URL: it takes no --json, --csv, --jsonl or --output');
  if (output.expiresIn !== undefined && !output.url)
    throw new UsageError('--expires-in is the expiry of the --url; give --url too');
}

/** The options of the commands that print a result. */
function addOutputOptions(command: Command): Command {
  return command
    .option('--csv', 'print CSV (RFC 4180) instead of a table')
    .option('--jsonl', 'print JSON Lines: one JSON array of values per row')
    .option('--output <file>', 'write the rows to a file instead of stdout')
    .option('--url', 'print a presigned URL of the rows (gzip JSON Lines) in the results bucket')
    .option(
      '--expires-in <seconds>',
      'with --url: how long the URL works, default 3600',
      positiveInteger,
    );
}

/** Waits for the query with the progress line; Ctrl+C stops waiting and leaves the query running. */
async function waitWithProgress(
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
async function waitAndPrint(
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

/**
 * Runs one command's work with a client built from the global options, and releases the client's
 * sockets afterwards whatever happened, so that the process can end at once.
 */
async function withClient(
  command: Command,
  work: (client: SpectraClient, globals: GlobalOptions) => Promise<void>,
): Promise<void> {
  const globals = command.optsWithGlobals<GlobalOptions>();
  const client = new SpectraClient({ endpoint: globals.endpoint, region: globals.region });
  try {
    await work(client, globals);
  } finally {
    client.destroy();
  }
}

export function buildProgram(output: CliOutput = new CliOutput(processStreams())): Command {
  const { stdout, stderr } = output.streams;
  const program = new Command('spectra')
    .description(
      'Run SQL on Amazon Redshift through Spectra (Step Functions + the Data API) and read the results.\n' +
        'Against the local stack: npm start, then --endpoint http://127.0.0.1:4599 (or AWS_ENDPOINT_URL).\n' +
        'Against AWS: set SPECTRA_STATE_MACHINE_ARN and SPECTRA_DYNAMODB_SESSIONS_TABLE_NAME from the stack outputs.',
    )
    .option(
      '--endpoint <url>',
      'send requests to this URL (overrides AWS_ENDPOINT_URL)',
      checkedBy(endpointProblem),
    )
    .option('--region <region>', 'the AWS region (overrides AWS_REGION)', checkedBy(regionProblem))
    .option('--json', 'print machine-readable JSON on stdout')
    .configureHelp({ showGlobalOptions: true })
    // Set before the commands are added, which inherit it: help and errors go to this run's streams.
    .configureOutput({
      writeOut: (text) => stdout.write(text),
      writeErr: (text) => stderr.write(text),
      // Commander's own default: the terminal's width, else 80 columns.
      getOutHelpWidth: () => (stdout.isTTY && stdout.columns ? stdout.columns : 80),
      getErrHelpWidth: () => (stderr.isTTY && stderr.columns ? stderr.columns : 80),
      getOutHasColors: () => false,
      getErrHasColors: () => false,
    })
    .addHelpText('afterAll', EXIT_CODES_HELP)
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();

  addQueryOptions(
    program
      .command('submit')
      .description('start a query and print its execution ARN')
      .addHelpText(
        'after',
        '\nExample:\n  spectra submit --tenant acme --sql "select * from sales where qtysold > :n" --param n=2',
      ),
  ).action((options: QueryOptions, command: Command) =>
    withClient(command, async (client, globals) => {
      const submitted = await client.submitQuery(await requestOf(options, output));
      if (globals.json) output.json(submitted);
      else output.line(submitted.executionArn);
    }),
  );

  program
    .command('status')
    .description('show the status of a query (exit 0 whatever the status)')
    .argument('<executionArn>', 'the execution ARN that submit printed')
    .action((executionArn: string, _options: unknown, command: Command) =>
      withClient(command, async (client, globals) => {
        const query = await client.getQuery(executionArn);
        // The rows are for `results`; the status stays small whatever the query returned.
        const { result: _rows, ...status } = query;
        if (globals.json) output.json(status);
        else output.line(formatStatus(query));
        noteConsoleLink(client, executionArn, output);
      }),
    );

  addOutputOptions(
    program
      .command('results')
      .description(
        'print every row of a finished query, from the output or the results bucket (exit 1 if it did not succeed)',
      )
      .argument('<executionArn>', 'the execution ARN that submit printed'),
  )
    .option('--wait', 'wait for the query to end instead of failing while it runs')
    .action((executionArn: string, options: OutputOptions & { wait?: boolean }, command: Command) =>
      withClient(command, async (client, globals) => {
        checkOutputOptions(globals, options);
        let query = await client.getQuery(executionArn);
        if (query.status === 'RUNNING' || query.status === 'PENDING_REDRIVE') {
          if (!options.wait) throw new QueryNotFinishedError(executionArn);
          query = await waitWithProgress(client, executionArn, output);
        }
        if (query.status === 'SUCCEEDED' && query.result)
          await printResult(query.result, globals, options, output);
        else reportFailedQuery(client, query, globals, output);
      }),
    );

  addOutputOptions(
    addQueryOptions(
      program
        .command('run')
        .description(
          'submit a query, wait for it, and print its rows (exit 1 if it did not succeed)',
        )
        .addHelpText(
          'after',
          '\nThe execution ARN goes to stderr; on a terminal a progress line shows the current state.\n' +
            'Example:\n  spectra run --tenant acme --sql "select count(*) from sales" --csv',
        ),
    ),
  ).action((options: QueryOptions & OutputOptions, command: Command) =>
    withClient(command, async (client, globals) => {
      checkOutputOptions(globals, options);
      const { executionArn } = await client.submitQuery(await requestOf(options, output));
      output.note(`Execution ${executionArn}`);
      await waitAndPrint(client, executionArn, globals, options, output);
    }),
  );

  program
    .command('redrive')
    .description(
      'run a failed, aborted or timed-out query again from the step that did not finish (its statement is not run twice)',
    )
    .argument('<executionArn>', 'the execution ARN that submit printed')
    .option('--wait', 'wait for the query to end and print its rows, as run does')
    .option('--csv', 'with --wait: print CSV (RFC 4180) instead of a table')
    .action((executionArn: string, options: OutputOptions & { wait?: boolean }, command: Command) =>
      withClient(command, async (client, globals) => {
        checkOutputOptions(globals, options);
        const redriven = await client.redriveQuery(executionArn);
        if (!options.wait) {
          if (globals.json) output.json(redriven);
          else output.line(`Redriving ${executionArn}`);
          noteConsoleLink(client, executionArn, output);
          return;
        }
        output.note(`Redriving ${executionArn}`);
        await waitAndPrint(client, executionArn, globals, options, output);
      }),
    );

  program
    .command('history')
    .description('show the states a query passed, with their timing and outcome')
    .argument('<executionArn>', 'the execution ARN that submit printed')
    .action((executionArn: string, _options: unknown, command: Command) =>
      withClient(command, async (client, globals) => {
        const visits = await client.getHistory(executionArn);
        if (globals.json) output.json(visits);
        else output.line(formatHistory(visits));
        noteConsoleLink(client, executionArn, output);
      }),
    );

  program
    .command('sessions')
    .description("list a tenant's pooled Data API sessions, the most recently used first")
    .requiredOption('--tenant <id>', 'the tenant')
    .action((options: { tenant: string }, command: Command) =>
      withClient(command, async (client, globals) => {
        const sessions = await client.listSessions(options.tenant);
        if (globals.json) output.json(sessions);
        else if (sessions.length === 0)
          output.line(`No sessions in the pool of tenant ${options.tenant}.`);
        else {
          const now = new Date();
          output.line(
            formatTable(
              ['SESSION', 'STATE', 'LAST USED', 'EXPIRES', 'LEASED TO'],
              sessions.map((s) => [
                s.id,
                s.state,
                `${formatDateTime(s.lastUsedAt)} (${formatRelative(s.lastUsedAt, now)})`,
                `${formatDateTime(s.expiresAt)} (${formatRelative(s.expiresAt, now)})`,
                s.state === 'LEASED' ? (s.leaseOwner?.split(':').at(-1) ?? '') : '',
              ]),
            ),
          );
        }
      }),
    );

  program
    .command('cancel')
    .description('stop a running query: its statement is cancelled and its session released')
    .argument('<executionArn>', 'the execution ARN that submit printed')
    .option('--reason <text>', 'why, recorded as the execution cause')
    .action((executionArn: string, options: { reason?: string }, command: Command) =>
      withClient(command, async (client, globals) => {
        const cancelled = await client.cancelQuery(
          executionArn,
          options.reason === undefined ? {} : { cause: options.reason },
        );
        if (globals.json) output.json(cancelled);
        else if (cancelled.stopped) output.line(`Cancelled ${executionArn} (${cancelled.status})`);
        else
          output.line(`Nothing to cancel: ${executionArn} had already ended ${cancelled.status}`);
      }),
    );

  return program;
}

/**
 * Runs the CLI on `args` (the arguments after the program name, as `process.argv.slice(2)`) and
 * resolves with the exit code instead of exiting, so that it can run inside another program.
 */
export async function main(
  args: readonly string[],
  streams: CliStreams = processStreams(),
): Promise<number> {
  const output = new CliOutput(streams);
  const program = buildProgram(output);
  try {
    await program.parseAsync(args, { from: 'user' });
    return output.exitCode ?? EXIT_DONE;
  } catch (error) {
    const json = program.opts<GlobalOptions>().json === true;
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
}
