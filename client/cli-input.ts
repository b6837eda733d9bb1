import { readFile } from 'node:fs/promises';
import { type Command, InvalidArgumentError } from 'commander';
import { splitStatements } from '#common/sql-statements';
import type { CliOutput } from './cli-output.ts';
import type { SqlParameter, SubmitQueryRequest } from './types.ts';

/**
 * What the CLI reads from its command line and stdin: the global options, the query options,
 * the options of the commands that print a result, and their checks.
 */

export interface QueryOptions {
  tenant: string;
  sql?: string;
  sqlFile?: string;
  param?: SqlParameter[];
  name?: string;
  statementName?: string;
  rowLimit?: number;
  byteLimit?: number;
  timeout?: number;
  batch?: boolean;
  autoCommit?: boolean;
}

/** A usage problem found after parsing; reported like commander's own, with exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

function parseParam(text: string, previous: SqlParameter[] | undefined): SqlParameter[] {
  const at = text.indexOf('=');
  if (at <= 0) {
    throw new InvalidArgumentError(
      `expected name=value (the SQL refers to it as :name), got "${text}"`,
    );
  }
  return [...(previous ?? []), { name: text.slice(0, at), value: text.slice(at + 1) }];
}

/** Commander's parser for a whole number of at least 1 (`--row-limit`, `--expires-in`, ...). */
export function positiveInteger(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
    throw new InvalidArgumentError(`expected a whole number of at least 1, got "${value}"`);
  }
  return Number(value);
}

/** Commander's argument parser for an option whose value `problemOf` checks. */
export function checkedBy(problemOf: (value: string) => string | undefined) {
  return (value: string): string => {
    const problem = problemOf(value);
    if (problem !== undefined) throw new InvalidArgumentError(problem);
    return value;
  };
}

async function readStdin(output: CliOutput): Promise<string> {
  const { stdin } = output.streams;
  if (stdin.isTTY) output.note('Reading the SQL from stdin; end it with Ctrl+D.');
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) {
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk as Uint8Array));
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function sqlOf(options: QueryOptions, output: CliOutput): Promise<string> {
  if (options.sql !== undefined && options.sqlFile !== undefined) {
    throw new UsageError('give the SQL with --sql or --sql-file, not both');
  }
  if (options.sql !== undefined) return options.sql;
  if (options.sqlFile === undefined) {
    throw new UsageError(
      'the SQL is missing: give --sql "<statement>" or --sql-file <path> (- for stdin)',
    );
  }
  if (options.sqlFile === '-') return readStdin(output);
  try {
    return await readFile(options.sqlFile, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read --sql-file ${options.sqlFile}: ${(error as Error).message}`);
  }
}

export async function requestOf(
  options: QueryOptions,
  output: CliOutput,
): Promise<SubmitQueryRequest> {
  const sql = await sqlOf(options, output);
  const request: SubmitQueryRequest = { tenantId: options.tenant };
  if (options.autoCommit && !options.batch)
    throw new UsageError('--auto-commit applies only to --batch');
  if (options.batch) {
    // Split as Redshift reads the script: at `;` outside strings, comments and dollar quotes.
    request.statements = splitStatements(sql).map((statement) => statement.text);
    if (request.statements.length === 0) throw new UsageError('the SQL holds no statement');
    if (options.autoCommit) request.transaction = false;
  } else request.sql = sql;
  if (options.param !== undefined) request.parameters = options.param;
  if (options.name !== undefined) request.name = options.name;
  if (options.statementName !== undefined) request.statementName = options.statementName;
  if (options.rowLimit !== undefined) request.rowLimit = options.rowLimit;
  if (options.byteLimit !== undefined) request.byteLimit = options.byteLimit;
  if (options.timeout !== undefined) request.timeoutSeconds = options.timeout;
  return request;
}

export function addQueryOptions(command: Command): Command {
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
    .option('--statement-name <name>', "the Data API's StatementName, shown in Redshift's logs")
    .option('--row-limit <rows>', 'stop the result after this many rows', positiveInteger)
    .option(
      '--byte-limit <bytes>',
      'stop the result before the row that takes its JSON Lines past this size',
      positiveInteger,
    )
    .option(
      '--timeout <seconds>',
      "cancel the query if it has not ended this long after it started (1-86400; default: the deployment's, 3600)",
      positiveInteger,
    )
    .option(
      '--batch',
      'split the SQL into its statements and run them in order on one session, in one transaction',
    )
    .option('--auto-commit', 'with --batch: commit each statement on its own');
}

export interface GlobalOptions {
  endpoint?: string;
  region?: string;
  json?: boolean;
}

export interface OutputOptions {
  csv?: boolean;
  jsonl?: boolean;
  output?: string;
  url?: boolean;
  expiresIn?: number;
}

export function checkOutputOptions(globals: GlobalOptions, output: OutputOptions): void {
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
export function addOutputOptions(command: Command): Command {
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
