import * as z from 'zod';
import { AwsServiceError } from '../aws-json.ts';
import { validationMessage, violation } from '../service-model.ts';

/**
 * The request shapes of the Redshift Data API with the constraints of its service model (the
 * `redshift-data` 2019-12-20 model that `@aws-sdk/client-redshift-data` is generated from: lengths,
 * ranges, patterns and enums, such as `Sqls` 1 to 40 items and `WaitTimeSeconds` 0 to 30; the SDK
 * sends out-of-range values unchanged), checked as the service checks them: a violation is a
 * `ValidationException` worded as AWS words model violations, e.g.
 * `1 validation error detected: Value '90000' at 'sessionKeepAliveSeconds' failed to satisfy
 * constraint: Member must have value less than or equal to 86400`.
 * Rules that span fields (cluster or workgroup, session fields, placeholders) are the
 * emulator's; unknown members are ignored, as the JSON protocol does.
 */

const NOT_NULL = 'Member must not be null';

function text(options: { min?: number; max?: number; pattern?: RegExp } = {}) {
  let schema = z.string({
    error: (issue) => (issue.input === undefined ? NOT_NULL : 'Member must be a string'),
  });
  if (options.min !== undefined)
    schema = schema.min(options.min, {
      error: `Member must have length greater than or equal to ${options.min}`,
    });
  if (options.max !== undefined)
    schema = schema.max(options.max, {
      error: `Member must have length less than or equal to ${options.max}`,
    });
  if (options.pattern)
    schema = schema.regex(options.pattern, {
      error: `Member must satisfy regular expression pattern: ${options.pattern.source}`,
    });
  return schema;
}

function integer(min: number, max: number) {
  return z
    .number({ error: 'Member must be a number' })
    .int({ error: 'Member must be an integer' })
    .min(min, { error: `Member must have value greater than or equal to ${min}` })
    .max(max, { error: `Member must have value less than or equal to ${max}` });
}

function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: `Member must satisfy enum value set: [${values.join(', ')}]` });
}

const flag = () => z.boolean({ error: 'Member must be a boolean' });

/** Statement ids: a UUID, and `:n` for a sub-statement of a batch. */
export const STATEMENT_ID_PATTERN = /^[a-z0-9]{8}(-[a-z0-9]{4}){3}-[a-z0-9]{12}(:\d+)?$/;
const SESSION_ID_PATTERN = /^[a-z0-9]{8}(-[a-z0-9]{4}){3}-[a-z0-9]{12}(:\d{0,2})?$/;

const sqlParameter = z.object({
  name: text({ pattern: /^[0-9a-zA-Z_]+$/ }),
  value: text({ min: 1 }),
});

const connectionFields = {
  ClusterIdentifier: text().optional(),
  WorkgroupName: text({ min: 3, max: 128 }).optional(),
  SecretArn: text().optional(),
  DbUser: text().optional(),
  Database: text().optional(),
};

const submissionFields = {
  ...connectionFields,
  WithEvent: flag().optional(),
  StatementName: text({ max: 500 }).optional(),
  Parameters: z
    .array(sqlParameter, { error: 'Member must be a list' })
    .min(1, { error: 'Member must have length greater than or equal to 1' })
    .optional(),
  ClientToken: text({ min: 1, max: 64 }).optional(),
  ResultFormat: oneOf(['JSON', 'CSV']).optional(),
  SessionKeepAliveSeconds: integer(0, 86400).optional(),
  SessionId: text({ pattern: SESSION_ID_PATTERN }).optional(),
  WaitTimeSeconds: integer(0, 30).optional(),
};

export const executeStatementRequest = z.object({ Sql: text(), ...submissionFields });

export const batchExecuteStatementRequest = z.object({
  Sqls: z
    .array(text(), {
      error: (issue) => (issue.input === undefined ? NOT_NULL : 'Member must be a list'),
    })
    .min(1, { error: 'Member must have length greater than or equal to 1' })
    .max(40, { error: 'Member must have length less than or equal to 40' }),
  ...submissionFields,
  ExecutionMode: oneOf(['TRANSACTION', 'AUTO_COMMIT']).optional(),
});

const statementId = () => text({ pattern: STATEMENT_ID_PATTERN });

export const describeStatementRequest = z.object({
  Id: statementId(),
  WaitTimeSeconds: integer(0, 30).optional(),
});

export const getStatementResultRequest = z.object({
  Id: statementId(),
  NextToken: text().optional(),
  WaitTimeSeconds: integer(0, 30).optional(),
});

export const cancelStatementRequest = z.object({ Id: statementId() });

export const listStatementsRequest = z.object({
  NextToken: text().optional(),
  MaxResults: integer(0, 100).optional(),
  StatementName: text({ max: 500 }).optional(),
  Status: oneOf([
    'SUBMITTED',
    'PICKED',
    'STARTED',
    'FINISHED',
    'ABORTED',
    'FAILED',
    'ALL',
  ]).optional(),
  RoleLevel: flag().optional(),
  Database: text().optional(),
  ClusterIdentifier: text().optional(),
  WorkgroupName: text().optional(),
});

export const listSessionsRequest = z.object({
  NextToken: text().optional(),
  MaxResults: integer(0, 1000).optional(),
  SessionId: text({ pattern: SESSION_ID_PATTERN }).optional(),
  Status: oneOf(['AVAILABLE', 'BUSY', 'CLOSED']).optional(),
  RoleLevel: flag().optional(),
  Database: text().optional(),
  ClusterIdentifier: text().optional(),
  WorkgroupName: text().optional(),
});

const pagingFields = {
  NextToken: text().optional(),
  MaxResults: integer(0, 1000).optional(),
};

export const listDatabasesRequest = z.object({ ...connectionFields, ...pagingFields });

const catalogFields = {
  ...connectionFields,
  ...pagingFields,
  ConnectedDatabase: text().optional(),
};

export const listSchemasRequest = z.object({
  ...catalogFields,
  Database: text(),
  SchemaPattern: text().optional(),
});

export const listTablesRequest = z.object({
  ...catalogFields,
  Database: text(),
  SchemaPattern: text().optional(),
  TablePattern: text().optional(),
});

export const describeTableRequest = z.object({
  ...catalogFields,
  Database: text(),
  Schema: text().optional(),
  Table: text().optional(),
});

export type ExecuteStatementRequest = z.infer<typeof executeStatementRequest>;
export type BatchExecuteStatementRequest = z.infer<typeof batchExecuteStatementRequest>;
export type ConnectionRequest = z.infer<z.ZodObject<typeof connectionFields>>;

export function validationError(message: string): AwsServiceError {
  return new AwsServiceError('ValidationException', message, 400);
}

/** AWS spells members in messages in lower camel case, list items as `<list>.<n>.member`. */
function memberPath(path: PropertyKey[]): string {
  return path
    .map((segment) =>
      typeof segment === 'number'
        ? `${segment + 1}.member`
        : String(segment).replace(/^./, (first) => first.toLowerCase()),
    )
    .join('.');
}

/**
 * Checks a request against its schema.
 *
 * @throws {AwsServiceError} `ValidationException` listing every violation.
 */
export function parseRequest<T>(schema: z.ZodType<T>, input: Record<string, unknown>): T {
  const parsed = schema.safeParse(input, { reportInput: true });
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues;
  const details = issues.map((issue) =>
    violation('input' in issue ? issue.input : undefined, memberPath(issue.path), issue.message),
  );
  throw validationError(validationMessage(details));
}
