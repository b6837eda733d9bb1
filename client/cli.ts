import { Command } from 'commander';
import { EXIT_CODES_HELP, EXIT_DONE, exitCodeOfError } from './cli-exit.ts';
import {
  addOutputOptions,
  addQueryOptions,
  checkedBy,
  checkOutputOptions,
  type GlobalOptions,
  type OutputOptions,
  type QueryOptions,
  requestOf,
} from './cli-input.ts';
import { CliOutput, type CliStreams, processStreams } from './cli-output.ts';
import {
  noteConsoleLink,
  printResult,
  reportFailedQuery,
  waitAndPrint,
  waitWithProgress,
} from './cli-query-output.ts';
import { endpointProblem, regionProblem } from './connection.ts';
import { QueryNotFinishedError } from './errors.ts';
import {
  formatDateTime,
  formatHistory,
  formatRelative,
  formatStatus,
  formatTable,
} from './format.ts';
import { SpectraClient } from './index.ts';

/**
 * `spectra`: the command line of the Spectra client. Every command takes `--endpoint` and
 * `--region` as the AWS CLI does, and `--json` for scripts. Exit codes: {@link EXIT_CODES_HELP}.
 * This file declares the commands; their options are read in cli-input.ts, a query is waited for
 * and printed by cli-query-output.ts, and a run's end is reported by cli-exit.ts.
 *
 * `bin/spectra.mjs` runs {@link main} on the process's arguments and streams; importing this
 * module runs nothing, so a program or a test can call `main` with streams of its own.
 */

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

  /** A command on one execution, named by its ARN. */
  const executionCommand = (name: string, description: string) =>
    program
      .command(name)
      .description(description)
      .argument('<executionArn>', 'the execution ARN that submit printed');

  /**
   * Prints what a command read about an execution (`json` with --json, else `text`), then where
   * the console shows the execution.
   */
  const printAboutExecution = (
    client: SpectraClient,
    globals: GlobalOptions,
    executionArn: string,
    about: { json: unknown; text: string },
  ) => {
    if (globals.json) output.json(about.json);
    else output.line(about.text);
    noteConsoleLink(client, executionArn, output);
  };

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

  executionCommand('status', 'show the status of a query (exit 0 whatever the status)').action(
    (executionArn: string, _options: unknown, command: Command) =>
      withClient(command, async (client, globals) => {
        const query = await client.getQuery(executionArn);
        // The rows are for `results`; the status stays small whatever the query returned.
        const { result: _rows, ...status } = query;
        printAboutExecution(client, globals, executionArn, {
          json: status,
          text: formatStatus(query),
        });
      }),
  );

  addOutputOptions(
    executionCommand(
      'results',
      'print every row of a finished query, from the output or the results bucket (exit 1 if it did not succeed)',
    ),
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

  executionCommand(
    'redrive',
    'run a failed, aborted or timed-out query again from the step that did not finish (its statement is not run twice)',
  )
    .option('--wait', 'wait for the query to end and print its rows, as run does')
    .option('--csv', 'with --wait: print CSV (RFC 4180) instead of a table')
    .action((executionArn: string, options: OutputOptions & { wait?: boolean }, command: Command) =>
      withClient(command, async (client, globals) => {
        checkOutputOptions(globals, options);
        const redriven = await client.redriveQuery(executionArn);
        if (!options.wait) {
          printAboutExecution(client, globals, executionArn, {
            json: redriven,
            text: `Redriving ${executionArn}`,
          });
          return;
        }
        output.note(`Redriving ${executionArn}`);
        await waitAndPrint(client, executionArn, globals, options, output);
      }),
    );

  executionCommand(
    'history',
    'show the states a query passed, with their timing and outcome',
  ).action((executionArn: string, _options: unknown, command: Command) =>
    withClient(command, async (client, globals) => {
      const visits = await client.getHistory(executionArn);
      printAboutExecution(client, globals, executionArn, {
        json: visits,
        text: formatHistory(visits),
      });
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

  executionCommand(
    'cancel',
    'stop a running query: its statement is cancelled and its session released',
  )
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
    return exitCodeOfError(error, output, program.opts<GlobalOptions>().json === true);
  }
}
