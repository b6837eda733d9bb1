import * as z from 'zod';
import { QUERY_TIMEOUT_SECONDS } from './config.ts';
import { InvalidInputError } from './errors.ts';
import { EXECUTION_INPUT_MAX_BYTES } from './payload-limits.ts';
import { classifySql, placeholderNames } from './sql-statements.ts';

/**
 * The public execution input: what a caller passes to StartExecution, its limits and the rules
 * every refusal quotes. The client checks a query with the same parse before it sends it.
 */

/** Limits of the execution input; the README's contract section lists the same. */
export const INPUT_LIMITS = {
  tenantIdPattern: /^[a-z][a-z0-9-]{0,62}$/,
  /** The Data API refuses SQL text over 100 KB. */
  sqlMaxBytes: 100 * 1024,
  parameterNamePattern: /^[0-9a-zA-Z_]{1,128}$/,
  maxParameters: 100,
  parameterValueMaxBytes: 64 * 1024,
  statementNameMaxLength: 500,
  /** rowLimit and byteLimit: whole numbers from 1 to 2^53 - 1 (any size a JSON number holds exactly). */
  limitMax: Number.MAX_SAFE_INTEGER,
  /** BatchExecuteStatement takes 1 to 40 SQL texts. */
  maxStatements: 40,
} as const;

const EXECUTION_INPUT_FIELDS = [
  'tenantId',
  'sql',
  'statements',
  'transaction',
  'parameters',
  'statementName',
  'rowLimit',
  'byteLimit',
  'timeoutSeconds',
];

const utf8Bytes = (text: string) => Buffer.byteLength(text, 'utf8');

/** Describes a received value briefly, so an error can say what it got without echoing 100 KB. */
function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') {
    const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
    return `${JSON.stringify(shown)} (${value.length} characters)`;
  }
  if (Array.isArray(value)) return `an array of ${value.length}`;
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}

/**
 * What each field allows, in the words every message about the field uses: a caller who got any
 * refusal reads the rule, not only what was wrong.
 */
export const INPUT_RULES = {
  tenantId: '1-63 characters of lowercase letters, digits and "-", starting with a letter',
  sql: `SQL text, not blank, at most ${INPUT_LIMITS.sqlMaxBytes} bytes (the Data API limit)`,
  parameters: `a list of at most ${INPUT_LIMITS.maxParameters} {name, value} objects with unique names`,
  parameter: 'an object {name, value}',
  parameterName: '1-128 letters, digits or "_" (the SQL refers to it as :name)',
  parameterValue: `a non-empty string of at most ${INPUT_LIMITS.parameterValueMaxBytes} bytes (the Data API passes every value as text)`,
  statementName: `1-${INPUT_LIMITS.statementNameMaxLength} characters`,
  rowLimit:
    'a whole number of rows, at least 1: the result stops after that many (truncated: true when rows were left out)',
  byteLimit:
    'a whole number of bytes, at least 1: the result stops before the row that would take its JSON Lines past that size (truncated: true when rows were left out)',
  statements: `a list of 1-${INPUT_LIMITS.maxStatements} SQL texts, each not blank and at most ${INPUT_LIMITS.sqlMaxBytes} bytes, run in order on one session (instead of sql)`,
  transaction:
    'true (the default: the statements run as one transaction) or false (each statement commits on its own); only with statements',
  timeoutSeconds: `a whole number of seconds from ${QUERY_TIMEOUT_SECONDS.min} to ${QUERY_TIMEOUT_SECONDS.max} (24 hours): how long the query may take from the start of its execution, after which its statement is cancelled (default SPECTRA_QUERY_TIMEOUT_SECONDS)`,
  input: `a JSON object of at most ${EXECUTION_INPUT_MAX_BYTES} bytes`,
} as const;

/**
 * A value's kind only (`a number`, `null`), for the fields that hold a tenant's data (SQL,
 * parameter values): an error message reaches the function's log and must not quote them.
 */
function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/**
 * A string field: missing says what is required, a wrong type says what is allowed instead, and
 * what it got: the value itself for names and ids, its kind only for `data` fields.
 */
const requiredString = (field: string, rule: string, holds: 'name' | 'data' = 'name') =>
  z.string({
    error: (issue) =>
      issue.input === undefined
        ? `${field} is required: ${rule}`
        : `${field} must be ${rule}; got ${holds === 'data' ? kindOf(issue.input) : describe(issue.input)}`,
  });

/** One SQL text: not blank, within the Data API's size limit; its content is never quoted back. */
const sqlText = (field: string, rule: string) =>
  requiredString(field, rule, 'data')
    .refine((sql) => sql.trim() !== '', {
      error: `${field} must not be empty or only whitespace; allowed: ${rule}`,
    })
    .refine((sql) => utf8Bytes(sql) <= INPUT_LIMITS.sqlMaxBytes, {
      error: (issue) => `${field} must be ${rule}; got ${utf8Bytes(String(issue.input))} bytes`,
    });

const sqlParameter = z.strictObject(
  {
    name: requiredString('parameters[].name', INPUT_RULES.parameterName).regex(
      INPUT_LIMITS.parameterNamePattern,
      {
        error: (issue) =>
          `parameters[].name must be ${INPUT_RULES.parameterName}; got ${describe(issue.input)}`,
      },
    ),
    value: requiredString('parameters[].value', INPUT_RULES.parameterValue, 'data')
      .min(1, {
        error: `parameters[].value must not be empty (the Data API rejects empty values); allowed: ${INPUT_RULES.parameterValue}`,
      })
      .refine((value) => utf8Bytes(value) <= INPUT_LIMITS.parameterValueMaxBytes, {
        error: (issue) =>
          `parameters[].value must be ${INPUT_RULES.parameterValue}; got ${utf8Bytes(String(issue.input))} bytes`,
      }),
  },
  {
    error: (issue) => `parameters[] must be ${INPUT_RULES.parameter}; got ${describe(issue.input)}`,
  },
);

/** rowLimit / byteLimit: optional whole numbers from 1 up. */
const resultLimit = (field: 'rowLimit' | 'byteLimit') =>
  z
    .number({
      error: (issue) =>
        `${field} must be ${INPUT_RULES[field]}; got ${issue.input === undefined ? 'nothing' : describe(issue.input)}`,
    })
    .int({
      error: (issue) => `${field} must be ${INPUT_RULES[field]}; got ${describe(issue.input)}`,
    })
    .min(1, {
      error: (issue) => `${field} must be ${INPUT_RULES[field]}; got ${describe(issue.input)}`,
    })
    .max(INPUT_LIMITS.limitMax, {
      error: (issue) => `${field} must be ${INPUT_RULES[field]}; got ${describe(issue.input)}`,
    })
    .optional();

/** A whole number of seconds from 1 to 86400, said in the words of `timeoutSeconds`' rule. */
const timeoutSeconds = z
  .number({
    error: (issue) =>
      `timeoutSeconds must be ${INPUT_RULES.timeoutSeconds}; got ${describe(issue.input)}`,
  })
  .int({
    error: (issue) =>
      `timeoutSeconds must be ${INPUT_RULES.timeoutSeconds}; got ${describe(issue.input)}`,
  })
  .min(QUERY_TIMEOUT_SECONDS.min, {
    error: (issue) =>
      `timeoutSeconds must be ${INPUT_RULES.timeoutSeconds}; got ${describe(issue.input)}`,
  })
  .max(QUERY_TIMEOUT_SECONDS.max, {
    error: (issue) =>
      `timeoutSeconds must be ${INPUT_RULES.timeoutSeconds}; got ${describe(issue.input)}`,
  })
  .optional();

/** What a caller passes to StartExecution. Unknown keys are refused. */
export const executionInputSchema = z
  .strictObject(
    {
      tenantId: requiredString('tenantId', INPUT_RULES.tenantId).regex(
        INPUT_LIMITS.tenantIdPattern,
        {
          error: (issue) =>
            `tenantId must be ${INPUT_RULES.tenantId}; got ${describe(issue.input)}`,
        },
      ),
      sql: sqlText('sql', INPUT_RULES.sql).optional(),
      statements: z
        .array(sqlText('statements[]', INPUT_RULES.statements), {
          error: (issue) =>
            `statements must be ${INPUT_RULES.statements}; got ${describe(issue.input)}`,
        })
        .min(1, { error: `statements must not be empty; allowed: ${INPUT_RULES.statements}` })
        .max(INPUT_LIMITS.maxStatements, {
          error: (issue) =>
            `statements must be ${INPUT_RULES.statements}; got ${(issue.input as unknown[]).length}`,
        })
        .optional(),
      transaction: z
        .boolean({
          error: (issue) =>
            `transaction must be ${INPUT_RULES.transaction}; got ${describe(issue.input)}`,
        })
        .optional(),
      parameters: z
        .array(sqlParameter, {
          error: (issue) =>
            `parameters must be ${INPUT_RULES.parameters}; got ${describe(issue.input)}`,
        })
        .max(INPUT_LIMITS.maxParameters, {
          error: (issue) =>
            `parameters must be ${INPUT_RULES.parameters}; got ${(issue.input as unknown[]).length} items`,
        })
        .refine((list) => new Set(list.map((p) => p.name)).size === list.length, {
          error: (issue) => {
            const names = (issue.input as { name: string }[]).map((p) => p.name);
            const repeated = names.filter((name, i) => names.indexOf(name) !== i);
            return `parameters must be ${INPUT_RULES.parameters}; repeated: ${[...new Set(repeated)].join(', ')}`;
          },
        })
        .optional(),
      statementName: requiredString('statementName', INPUT_RULES.statementName)
        .min(1, {
          error: (issue) =>
            `statementName must be ${INPUT_RULES.statementName}; got ${describe(issue.input)}`,
        })
        .max(INPUT_LIMITS.statementNameMaxLength, {
          error: (issue) =>
            `statementName must be ${INPUT_RULES.statementName}; got ${describe(issue.input)}`,
        })
        .optional(),
      rowLimit: resultLimit('rowLimit'),
      byteLimit: resultLimit('byteLimit'),
      timeoutSeconds,
    },
    {
      error: (issue) =>
        `the input must be a JSON object with tenantId and sql (or statements); got ${describe(issue.input)}`,
    },
  )
  .superRefine((input, context) => {
    if (input.sql === undefined && input.statements === undefined)
      context.addIssue({
        code: 'custom',
        path: ['sql'],
        message: `sql is required: ${INPUT_RULES.sql}; or give statements instead: ${INPUT_RULES.statements}`,
      });
    if (input.sql !== undefined && input.statements !== undefined)
      context.addIssue({
        code: 'custom',
        path: ['statements'],
        message:
          'sql and statements cannot both be given: sql runs one statement, statements several in order on one session',
      });
    if (input.transaction !== undefined && input.statements === undefined)
      context.addIssue({
        code: 'custom',
        path: ['transaction'],
        message: `transaction applies only to statements: ${INPUT_RULES.transaction}`,
      });
  });

export type ExecutionInput = z.infer<typeof executionInputSchema>;

/** The SQL a query runs: its one `sql`, or each of its `statements`, in order. */
export const sqlTextsOf = (query: { sql?: string; statements?: string[] }): string[] =>
  query.statements ?? (query.sql === undefined ? [] : [query.sql]);

const fieldOfText = (query: { statements?: string[] }, index: number) =>
  query.statements ? `statements[${index}]` : 'sql';

/**
 * What the SQL itself breaks of the contract, found before any session is touched (the Data API
 * would refuse some of it only once a session was leased): transaction control, which would leave
 * a transaction open on a pooled session, and placeholders that do not match the parameters. The
 * messages name keywords and parameter names, never the SQL's text.
 */
function sqlProblemsOf(input: ExecutionInput): string[] {
  const problems: string[] = [];
  const texts = sqlTextsOf(input);
  texts.forEach((text, index) => {
    const refused = classifySql(text).transactionControl;
    if (refused.length === 0) return;
    const where = refused
      .map((statement) => `${statement.command} (statement ${statement.index + 1} of its text)`)
      .join(', ');
    problems.push(
      `${fieldOfText(input, index)} holds transaction control, ${where}: a transaction left open would stay on the pooled session and lose its writes. Send the SQL as statements instead, which run as one transaction (transaction: true, the default) or each committed on its own (transaction: false), without BEGIN or COMMIT`,
    );
  });
  const used = new Set(texts.flatMap((text) => [...placeholderNames(text)]));
  const given = new Set((input.parameters ?? []).map((parameter) => parameter.name));
  const missing = [...used].filter((name) => !given.has(name));
  const unused = [...given].filter((name) => !used.has(name));
  if (missing.length > 0)
    problems.push(
      `the SQL refers to ${missing.map((name) => `:${name}`).join(', ')}, but parameters has no ${missing.join(', ')}: add {name, value} for each, or remove the placeholder`,
    );
  if (unused.length > 0)
    problems.push(
      `parameters ${unused.join(', ')} ${unused.length > 1 ? 'are' : 'is'} not used in the SQL: refer to each as :name${texts.length > 1 ? ' in one of the statements' : ''}, or remove it`,
    );
  return problems;
}

/**
 * Whether a query leaves state in its session that the next query must not meet: a setting, a
 * temporary table, another identity, ... (see StatementKind). Its session is then dropped from the
 * pool instead of being given back.
 */
export const leavesSessionState = (query: { sql?: string; statements?: string[] }): boolean =>
  sqlTextsOf(query).some((text) => classifySql(text).sessionState.length > 0);
export type SqlParameter = z.infer<typeof sqlParameter>;

/** A zod issue's path as the contract's messages write a field: `parameters[2].name`. */
export function fieldOf(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (text, key) =>
      typeof key === 'number' ? `${text}[${key}]` : text ? `${text}.${String(key)}` : String(key),
    '',
  );
}

/**
 * Validates the execution input. Every problem is named with its field and what the field allows,
 * all of them at once, so a caller fixes the input in one round.
 *
 * @throws {InvalidInputError} when the input breaks the contract.
 */
export function parseExecutionInput(input: unknown): ExecutionInput {
  const size = utf8Bytes(JSON.stringify(input) ?? '');
  const tooLarge =
    size > EXECUTION_INPUT_MAX_BYTES
      ? [
          `the input must be ${INPUT_RULES.input}; got ${size} bytes (it travels beside the workflow's state, within Step Functions' 262144-byte limit)`,
        ]
      : [];
  const result = executionInputSchema.safeParse(input);
  if (result.success) {
    const problems = [...tooLarge, ...sqlProblemsOf(result.data)];
    if (problems.length > 0) throw new InvalidInputError(`Invalid input: ${problems.join('; ')}`);
    return result.data;
  }
  const problems = result.error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      const where = issue.path.length === 0 ? 'the input' : fieldOf(issue.path);
      const allowed = issue.path.length === 0 ? EXECUTION_INPUT_FIELDS : ['name', 'value'];
      return `${where} has unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}; allowed: ${allowed.join(', ')}`;
    }
    // Messages of array items say "parameters[]" or "statements[]"; put the index in.
    const field = fieldOf(issue.path);
    return /^(parameters|statements)\[/.test(field)
      ? issue.message.replace(/^(parameters|statements)\[\](\.\w+)?/, field)
      : issue.message;
  });
  throw new InvalidInputError(`Invalid input: ${[...tooLarge, ...problems].join('; ')}`);
}

/** The tenant id in an execution input (JSON text or object), if it has a valid one. */
export function tenantIdOf(input: unknown): string | undefined {
  let value = input;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  if (value === null || typeof value !== 'object' || !('tenantId' in value)) return undefined;
  const { tenantId } = value;
  return typeof tenantId === 'string' && INPUT_LIMITS.tenantIdPattern.test(tenantId)
    ? tenantId
    : undefined;
}
