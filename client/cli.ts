import { readFile } from 'node:fs/promises';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import {
  InvalidInputError,
  QueryExecutionError,
  QueryNotFinishedError,
  SpectraClientError,
} from './errors.ts';
import {
  formatDateTime,
  formatDuration,
  formatHistory,
  formatRelative,
  formatResultTable,
  formatTable,
  plural,
  toCsv,
} from './format.ts';
import {
  failureOf,
  type Query,
  type QueryProgress,
  type QueryResult,
  SpectraClient,
  type SqlParameter,
  type SubmitQueryRequest,
} from './index.ts';

/**
 * `spectra`: the command line of the Spectra client. Every command takes `--endpoint` and
 * `--region` as the AWS CLI does, and `--json` for scripts. Exit codes: 0 done, 1 the query did not
 * succeed or could not be read, 2 bad usage.
 */

const EXIT_FAILED = 1;
const EXIT_USAGE = 2;
/** What a shell reports for a process ended by Ctrl+C. */
const EXIT_INTERRUPTED = 130;

interface GlobalOptions {
  endpoint?: string;
  region?: string;
  json?: boolean;
}

interface QueryOptions {
  tenant: string;
  sql?: string;
  sqlFile?: string;
  param?: SqlParameter[];
  name?: string;
  statementName?: string;
}

interface OutputOptions {
  csv?: boolean;
}

/** A usage problem found after parsing; reported like commander's own, with exit code 2. */
class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

const stdout = (text: string) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
const stderr = (text: string) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
const printJson = (value: unknown) => stdout(JSON.stringify(value, null, 2));

function parseParam(text: string, previous: SqlParameter[] | undefined): SqlParameter[] {
  const at = text.indexOf('=');
  if (at <= 0) {
    throw new InvalidArgumentError(
      `expected name=value (the SQL refers to it as :name), got "${text}"`,
    );
  }
  return [...(previous ?? []), { name: text.slice(0, at), value: text.slice(at + 1) }];
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) stderr('Reading the SQL from stdin; end it with Ctrl+D.');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks).toString('utf8');
}

async function sqlOf(options: QueryOptions): Promise<string> {
  if (options.sql !== undefined && options.sqlFile !== undefined) {
    throw new UsageError('give the SQL with --sql or --sql-file, not both');
  }
  if (options.sql !== undefined) return options.sql;
  if (options.sqlFile === undefined) {
    throw new UsageError(
      'the SQL is missing: give --sql "<statement>" or --sql-file <path> (- for stdin)',
    );
  }
  if (options.sqlFile === '-') return readStdin();
  try {
    return await readFile(options.sqlFile, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read --sql-file ${options.sqlFile}: ${(error as Error).message}`);
  }
}

async function requestOf(options: QueryOptions): Promise<SubmitQueryRequest> {
  const request: SubmitQueryRequest = { tenantId: options.tenant, sql: await sqlOf(options) };
  if (options.param !== undefined) request.parameters = options.param;
  if (options.name !== undefined) request.name = options.name;
  if (options.statementName !== undefined) request.statementName = options.statementName;
  return request;
}

function clientFor(globals: GlobalOptions): SpectraClient {
  return new SpectraClient({ endpoint: globals.endpoint, region: globals.region });
}

/** Reports a query that did not succeed, and sets exit code 1. */
function reportFailedQuery(query: Query, globals: GlobalOptions): void {
  const failure = failureOf(query) ?? { errorName: 'QueryFailedError', message: 'No result' };
  stderr(`${failure.errorName}: ${failure.message}`);
  if (globals.json) {
    printJson({
      error: failure.errorName,
      message: failure.message,
      executionArn: query.executionArn,
      status: query.status,
      cause: query.cause,
    });
  }
  process.exitCode = EXIT_FAILED;
}

function printResult(result: QueryResult, globals: GlobalOptions, output: OutputOptions): void {
  if (globals.json) printJson(result);
  else if (output.csv) process.stdout.write(toCsv(result));
  else stdout(formatResultTable(result));
}

function checkOutputOptions(globals: GlobalOptions, output: OutputOptions): void {
  if (globals.json && output.csv) throw new UsageError('choose one of --json and --csv');
}

/**
 * A one-line progress display on stderr, redrawn in place: only on a terminal, since anywhere
 * else the carriage returns and erase codes would be noise in a log.
 */
class ProgressLine {
  private static readonly FRAMES = ['-', '\\', '|', '/'];
  private timer: NodeJS.Timeout | undefined;
  private frame = 0;
  private latest: QueryProgress | undefined;
  private latestAt = Date.now();

  constructor(readonly enabled: boolean) {}

  start(): void {
    if (!this.enabled) return;
    this.timer = setInterval(() => this.draw(), 100);
    this.timer.unref();
  }

  update(progress: QueryProgress): void {
    this.latest = progress;
    this.latestAt = Date.now();
    this.draw();
  }

  private draw(): void {
    if (!this.enabled) return;
    const frame = ProgressLine.FRAMES[this.frame++ % ProgressLine.FRAMES.length];
    const state = this.latest?.state ?? 'Starting';
    // Between polls the clock keeps moving on this side.
    const elapsed = (this.latest?.elapsedMs ?? 0) + (Date.now() - this.latestAt);
    process.stderr.write(`\r\x1b[2K${frame} ${state}  ${formatDuration(elapsed)}`);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.enabled) process.stderr.write('\r\x1b[2K');
  }
}

/** Waits for the query with the progress line; Ctrl+C stops waiting and leaves the query running. */
async function waitWithProgress(client: SpectraClient, executionArn: string): Promise<Query> {
  const progress = new ProgressLine(process.stderr.isTTY === true);
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
    if (interrupt.signal.aborted) {
      progress.stop();
      stderr(
        `Stopped waiting; the query goes on. Read it later with: spectra results ${executionArn}\n` +
          `or stop it with: spectra cancel ${executionArn}`,
      );
      process.exit(EXIT_INTERRUPTED);
    }
    throw error;
  } finally {
    progress.stop();
    process.off('SIGINT', onSigint);
  }
}

function formatStatus(query: Query): string {
  const rows: [string, string][] = [
    ['Execution', query.executionArn],
    ['Tenant', query.tenantId],
    ['SQL', oneLineSql(query.sql)],
    ['Status', query.status],
    ['Started', formatDateTime(query.startedAt)],
  ];
  if (query.stoppedAt) {
    rows.push([
      'Stopped',
      `${formatDateTime(query.stoppedAt)} (took ${formatDuration(query.durationMs ?? 0)})`,
    ]);
  }
  const result = query.result;
  if (result) {
    const rowsText = result.truncated
      ? `${result.rowCount} of ${plural(result.totalRows, 'row')} (truncated)`
      : plural(result.rowCount, 'row');
    const session = result.sessionReused ? 'reused session' : 'new session';
    rows.push(['Result', `${rowsText}, ${session} ${result.sessionId ?? '(none)'}`]);
  }
  const failure = failureOf(query);
  if (failure) rows.push(['Error', `${failure.errorName}: ${failure.message}`]);
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join('\n');
}

function oneLineSql(sql: string): string {
  const flat = sql.replace(/\s+/g, ' ').trim();
  return flat.length > 200 ? `${flat.slice(0, 199)}…` : flat;
}

function addQueryOptions(command: Command): Command {
  return command
    .requiredOption('--tenant <id>', 'the tenant whose data the SQL reads')
    .option('--sql <statement>', 'the SQL to run')
    .option('--sql-file <path>', 'read the SQL from a file (- reads stdin)')
    .option(
      '--param <name=value>',
      'a parameter the SQL refers to as :name (repeat for more)',
      parseParam,
    )
    .option('--name <name>', 'an execution name: submitting the same query again returns it')
    .option('--statement-name <name>', "the Data API's StatementName, shown in Redshift's logs");
}

export function buildProgram(): Command {
  const program = new Command('spectra')
    .description(
      'Run SQL on Amazon Redshift through Spectra (Step Functions + the Data API) and read the results.\n' +
        'Against the local stack: npm start, then --endpoint http://127.0.0.1:4599 (or AWS_ENDPOINT_URL).\n' +
        'Against AWS: set SPECTRA_STATE_MACHINE_ARN and SPECTRA_DYNAMODB_SESSIONS_TABLE_NAME from the stack outputs.',
    )
    .option('--endpoint <url>', 'send requests to this URL (overrides AWS_ENDPOINT_URL)')
    .option('--region <region>', 'the AWS region (overrides AWS_REGION)')
    .option('--json', 'print machine-readable JSON on stdout')
    .configureHelp({ showGlobalOptions: true })
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();

  const globalsOf = (command: Command) => command.optsWithGlobals<GlobalOptions>();

  addQueryOptions(
    program
      .command('submit')
      .description('start a query and print its execution ARN')
      .addHelpText(
        'after',
        '\nExample:\n  spectra submit --tenant acme --sql "select * from sales where qtysold > :n" --param n=2',
      ),
  ).action(async (options: QueryOptions, command: Command) => {
    const globals = globalsOf(command);
    const client = clientFor(globals);
    try {
      const submitted = await client.submitQuery(await requestOf(options));
      if (globals.json) printJson(submitted);
      else stdout(submitted.executionArn);
    } finally {
      client.destroy();
    }
  });

  program
    .command('status')
    .description('show the status of a query (exit 0 whatever the status)')
    .argument('<executionArn>', 'the execution ARN that submit printed')
    .action(async (executionArn: string, _options: unknown, command: Command) => {
      const globals = globalsOf(command);
      const client = clientFor(globals);
      try {
        const query = await client.getQuery(executionArn);
        // The rows are for `results`; the status stays small whatever the query returned.
        const { result: _rows, ...status } = query;
        if (globals.json) printJson(status);
        else stdout(formatStatus(query));
      } finally {
        client.destroy();
      }
    });

  program
    .command('results')
    .description('print the rows of a finished query (exit 1 if it did not succeed)')
    .argument('<executionArn>', 'the execution ARN that submit printed')
    .option('--csv', 'print CSV (RFC 4180) instead of a table')
    .option('--wait', 'wait for the query to end instead of failing while it runs')
    .action(
      async (
        executionArn: string,
        options: OutputOptions & { wait?: boolean },
        command: Command,
      ) => {
        const globals = globalsOf(command);
        checkOutputOptions(globals, options);
        const client = clientFor(globals);
        try {
          let query = await client.getQuery(executionArn);
          if (query.status === 'RUNNING' || query.status === 'PENDING_REDRIVE') {
            if (!options.wait) throw new QueryNotFinishedError(executionArn);
            query = await waitWithProgress(client, executionArn);
          }
          if (query.status === 'SUCCEEDED' && query.result)
            printResult(query.result, globals, options);
          else reportFailedQuery(query, globals);
        } finally {
          client.destroy();
        }
      },
    );

  addQueryOptions(
    program
      .command('run')
      .description('submit a query, wait for it, and print its rows (exit 1 if it did not succeed)')
      .addHelpText(
        'after',
        '\nThe execution ARN goes to stderr; on a terminal a progress line shows the current state.\n' +
          'Example:\n  spectra run --tenant acme --sql "select count(*) from sales" --csv',
      ),
  )
    .option('--csv', 'print CSV (RFC 4180) instead of a table')
    .action(async (options: QueryOptions & OutputOptions, command: Command) => {
      const globals = globalsOf(command);
      checkOutputOptions(globals, options);
      const client = clientFor(globals);
      try {
        const { executionArn } = await client.submitQuery(await requestOf(options));
        stderr(`Execution ${executionArn}`);
        const query = await waitWithProgress(client, executionArn);
        if (query.status === 'SUCCEEDED' && query.result)
          printResult(query.result, globals, options);
        else reportFailedQuery(query, globals);
      } finally {
        client.destroy();
      }
    });

  program
    .command('history')
    .description('show the states a query passed, with their timing and outcome')
    .argument('<executionArn>', 'the execution ARN that submit printed')
    .action(async (executionArn: string, _options: unknown, command: Command) => {
      const globals = globalsOf(command);
      const client = clientFor(globals);
      try {
        const visits = await client.getHistory(executionArn);
        if (globals.json) printJson(visits);
        else stdout(formatHistory(visits));
      } finally {
        client.destroy();
      }
    });

  program
    .command('sessions')
    .description("list a tenant's pooled Data API sessions, the most recently used first")
    .requiredOption('--tenant <id>', 'the tenant')
    .action(async (options: { tenant: string }, command: Command) => {
      const globals = globalsOf(command);
      const client = clientFor(globals);
      try {
        const sessions = await client.listSessions(options.tenant);
        if (globals.json) printJson(sessions);
        else if (sessions.length === 0)
          stdout(`No sessions in the pool of tenant ${options.tenant}.`);
        else {
          const now = new Date();
          stdout(
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
      } finally {
        client.destroy();
      }
    });

  program
    .command('cancel')
    .description('stop a running query: its statement is cancelled and its session released')
    .argument('<executionArn>', 'the execution ARN that submit printed')
    .option('--reason <text>', 'why, recorded as the execution cause')
    .action(async (executionArn: string, options: { reason?: string }, command: Command) => {
      const globals = globalsOf(command);
      const client = clientFor(globals);
      try {
        const cancelled = await client.cancelQuery(
          executionArn,
          options.reason === undefined ? {} : { cause: options.reason },
        );
        if (globals.json) printJson(cancelled);
        else if (cancelled.stopped) stdout(`Cancelled ${executionArn} (${cancelled.status})`);
        else stdout(`Nothing to cancel: ${executionArn} had already ended ${cancelled.status}`);
      } finally {
        client.destroy();
      }
    });

  return program;
}

/** Runs the CLI; resolves with the exit code instead of exiting, so the process ends on its own. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    const json = program.opts<GlobalOptions>().json === true;
    if (error instanceof CommanderError) {
      // Commander has printed the message (or the help) already.
      return error.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    if (error instanceof UsageError || error instanceof InvalidInputError) {
      stderr(`error: ${error.message}\n(add --help for usage)`);
      return EXIT_USAGE;
    }
    const name = error instanceof Error ? error.name : 'Error';
    const message = error instanceof Error ? error.message : String(error);
    stderr(`${name}: ${message}`);
    if (json) {
      const extra = error instanceof QueryExecutionError ? { status: error.status } : {};
      printJson({ error: name, message, ...extra });
    }
    if (!(error instanceof SpectraClientError) && process.env.SPECTRA_DEBUG) console.error(error);
    return EXIT_FAILED;
  }
}

// `spectra results … | head` closes the pipe early; that is the reader's choice, not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});
process.exitCode = await main(process.argv);
