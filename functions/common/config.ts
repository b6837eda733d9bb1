import { ConfigurationError, InvalidInputError } from './errors.ts';

/** Where statements run: a provisioned cluster or a Serverless workgroup, never both. */
export type ComputeTarget = { clusterIdentifier: string } | { workgroupName: string };

export interface Config {
  sessionKeepAliveSeconds: number;
  sessionIdleTimeoutSeconds: number;
  sessionsTableName: string;
  database: string;
  target: ComputeTarget;
  /** Unset: statements authenticate as the tenant's `DbUser` (temporary credentials). */
  secretArn: string | undefined;
  /** How a tenant id becomes its database user; always has a fixed part (see {@link dbUserNamespace}). */
  dbUserTemplate: string;
  /** The deployment's own administrator users, refused as a tenant's user like the system names. */
  deniedDbUsers: string[];
  maxSessionsPerTenant: number;
  /** How long AcquireSession waits for a leased session of the tenant before opening a new one. */
  acquireWaitMilliseconds: number;
  resultInlineMaxBytes: number;
  /** The bucket a result larger than the inline budget is written to, under {@link RESULTS_PREFIX}. */
  resultsBucketName: string;
  /**
   * Days a written result is kept: the results bucket's lifecycle deletes it then, and its
   * `expiresAt` says when (see functions/common/result-store.ts).
   */
  resultRetentionDays: number;
  /** Uncompressed bytes of rows per part of a written result (each part a gzip member). */
  resultPartBytes: number;
  /** How long SubmitQuery holds ExecuteStatement on the server (`WaitTimeSeconds`); 0 returns at once. */
  submitWaitSeconds: number;
  /** How long PollStatus holds DescribeStatement on the server; 0 polls without waiting. */
  pollWaitSeconds: number;
  /**
   * How long a query may take when its input sets no `timeoutSeconds`, from the start of its
   * execution: then its statement is cancelled and the execution fails with QueryTimeoutError.
   */
  queryTimeoutSeconds: number;
  /**
   * Puts SQL text, parameter values and Redshift's error text in the function logs. Off by
   * default: it exposes tenants' data to whoever reads the logs. For debugging only.
   */
  logSql: boolean;
}

type Env = Record<string, string | undefined>;

/** The variables, their defaults and allowed values, in one place for the code and the README. */
export const CONFIG_VARIABLES = {
  keepAlive: 'SPECTRA_REDSHIFT_SESSION_KEEP_ALIVE_SECONDS',
  idleTimeout: 'SPECTRA_REDSHIFT_SESSION_IDLE_TIMEOUT_SECONDS',
  table: 'SPECTRA_DYNAMODB_SESSIONS_TABLE_NAME',
  database: 'SPECTRA_REDSHIFT_DATABASE',
  cluster: 'SPECTRA_REDSHIFT_CLUSTER_IDENTIFIER',
  workgroup: 'SPECTRA_REDSHIFT_WORKGROUP_NAME',
  secretArn: 'SPECTRA_REDSHIFT_SECRET_ARN',
  dbUserTemplate: 'SPECTRA_DB_USER_TEMPLATE',
  deniedDbUsers: 'SPECTRA_DENIED_DB_USERS',
  maxSessions: 'SPECTRA_MAX_SESSIONS_PER_TENANT',
  acquireWait: 'SPECTRA_ACQUIRE_WAIT_MILLISECONDS',
  resultMaxBytes: 'SPECTRA_RESULT_INLINE_MAX_BYTES',
  resultsBucket: 'SPECTRA_RESULTS_BUCKET_NAME',
  resultRetention: 'SPECTRA_RESULT_RETENTION_DAYS',
  resultPartBytes: 'SPECTRA_RESULT_PART_BYTES',
  submitWait: 'SPECTRA_SUBMIT_WAIT_SECONDS',
  pollWait: 'SPECTRA_POLL_WAIT_SECONDS',
  queryTimeout: 'SPECTRA_QUERY_TIMEOUT_SECONDS',
  logSql: 'SPECTRA_LOG_SQL',
} as const;

/**
 * The largest inline result allowed. Step Functions refuses state payloads over 256 KiB; the rest
 * of the output (ids, column list) needs room too.
 */
export const RESULT_INLINE_MAX_BYTES_LIMIT = 250_000;

/**
 * The range of a query's timeout, in seconds ({@link Config.queryTimeoutSeconds} and the input's
 * `timeoutSeconds`): up to 24 hours, the longest the Data API runs a statement.
 */
export const QUERY_TIMEOUT_SECONDS = { default: 3600, min: 1, max: 86_400 } as const;

/** The range of {@link Config.resultRetentionDays}, in the words of its messages and the README. */
export const RESULT_RETENTION_DAYS = { default: 7, min: 1, max: 365 } as const;

/**
 * The range of {@link Config.resultPartBytes}: 64 KiB to 1 GiB of JSON Lines. 16 MiB is about 2 to
 * 5 MB of gzip, the size of range requests S3 serves best in parallel.
 */
export const RESULT_PART_BYTES = {
  default: 16 * 1024 * 1024,
  min: 64 * 1024,
  max: 1024 ** 3,
} as const;

function readString(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function readInteger(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = readString(env, name);
  if (raw === undefined) return fallback;
  if (!/^-?\d+$/.test(raw)) {
    throw new ConfigurationError(
      `${name} must be a whole number from ${min} to ${max}; got "${raw}"`,
    );
  }
  const value = Number(raw);
  if (value < min || value > max) {
    throw new ConfigurationError(`${name} must be from ${min} to ${max}; got ${value}`);
  }
  return value;
}

function readFlag(env: Env, name: string, fallback: boolean): boolean {
  const raw = readString(env, name);
  if (raw === undefined) return fallback;
  if (!/^(true|false)$/i.test(raw))
    throw new ConfigurationError(`${name} must be true or false; got "${raw}"`);
  return raw.toLowerCase() === 'true';
}

/**
 * Redshift's rule for user names, as Spectra writes them: lowercase (Redshift folds unquoted names
 * to lowercase), a letter or "_" first, at most 127 characters.
 */
export const DB_USER_NAME_PATTERN = /^[a-z_][a-z0-9_$]{0,126}$/;

function readDbUserList(env: Env, name: string): string[] {
  const raw = readString(env, name);
  if (raw === undefined) return [];
  const users = raw
    .split(',')
    .map((user) => user.trim().toLowerCase())
    .filter((user) => user !== '');
  const bad = users.filter((user) => !DB_USER_NAME_PATTERN.test(user));
  if (bad.length > 0) {
    throw new ConfigurationError(
      `${name} must be a comma-separated list of database user names (a letter or "_", then letters, digits, "_" or "$"; at most 127 each); got ${bad.map((user) => `"${user}"`).join(', ')}`,
    );
  }
  return [...new Set(users)];
}

function readName(
  env: Env,
  name: string,
  fallback: string | undefined,
  pattern: RegExp,
  allowed: string,
) {
  const value = readString(env, name) ?? fallback;
  if (value !== undefined && !pattern.test(value)) {
    throw new ConfigurationError(`${name} must be ${allowed}; got "${value}"`);
  }
  return value;
}

/**
 * Reads and checks the configuration once. Throws a {@link ConfigurationError} naming the variable
 * and what it allows, so a bad deployment fails at start-up instead of on the first query.
 */
export function loadConfig(env: Env = process.env): Config {
  const v = CONFIG_VARIABLES;
  const sessionKeepAliveSeconds = readInteger(env, v.keepAlive, 3600, 1, 86_400);
  const sessionIdleTimeoutSeconds = readInteger(env, v.idleTimeout, 300, 1, 86_400);
  const maxSessionsPerTenant = readInteger(env, v.maxSessions, 4, 1, 500);
  // Well inside AcquireSession's 30-second Lambda timeout.
  const acquireWaitMilliseconds = readInteger(env, v.acquireWait, 1000, 0, 10_000);
  const resultInlineMaxBytes = readInteger(
    env,
    v.resultMaxBytes,
    200_000,
    1024,
    RESULT_INLINE_MAX_BYTES_LIMIT,
  );
  const resultRetentionDays = readInteger(
    env,
    v.resultRetention,
    RESULT_RETENTION_DAYS.default,
    RESULT_RETENTION_DAYS.min,
    RESULT_RETENTION_DAYS.max,
  );
  const resultPartBytes = readInteger(
    env,
    v.resultPartBytes,
    RESULT_PART_BYTES.default,
    RESULT_PART_BYTES.min,
    RESULT_PART_BYTES.max,
  );
  const resultsBucketName =
    readName(
      env,
      v.resultsBucket,
      'spectra-results',
      /^(?!xn--)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
      'an S3 bucket name (3-63 lowercase letters, digits, "." and "-", starting and ending with a letter or digit)',
    ) ?? 'spectra-results';
  // The Data API accepts WaitTimeSeconds up to 30.
  const submitWaitSeconds = readInteger(env, v.submitWait, 5, 0, 30);
  const pollWaitSeconds = readInteger(env, v.pollWait, 20, 0, 30);
  const queryTimeoutSeconds = readInteger(
    env,
    v.queryTimeout,
    QUERY_TIMEOUT_SECONDS.default,
    QUERY_TIMEOUT_SECONDS.min,
    QUERY_TIMEOUT_SECONDS.max,
  );
  const sessionsTableName =
    readName(
      env,
      v.table,
      'spectra-sessions',
      /^[a-zA-Z0-9_.-]{3,255}$/,
      '3-255 characters of a-z, A-Z, 0-9, "_", "-" and "."',
    ) ?? 'spectra-sessions';
  const database =
    readName(
      env,
      v.database,
      'dev',
      /^[a-zA-Z_][a-zA-Z0-9_$]{0,126}$/,
      'a Redshift database name (a letter or "_", then letters, digits, "_" or "$"; at most 127)',
    ) ?? 'dev';

  const cluster = readName(
    env,
    v.cluster,
    undefined,
    /^[a-z][a-z0-9-]{0,62}$/,
    'a cluster identifier (lowercase letters, digits and "-", starting with a letter; at most 63)',
  );
  const workgroup = readName(
    env,
    v.workgroup,
    undefined,
    /^[a-z0-9-]{3,64}$/,
    'a workgroup name (3-64 lowercase letters, digits and "-")',
  );
  if (cluster !== undefined && workgroup !== undefined) {
    throw new ConfigurationError(`Set only one of ${v.cluster} and ${v.workgroup}; both are set`);
  }
  if (cluster === undefined && workgroup === undefined) {
    throw new ConfigurationError(
      `Set one of ${v.cluster} (provisioned) or ${v.workgroup} (Serverless); neither is set`,
    );
  }
  const target: ComputeTarget =
    cluster !== undefined ? { clusterIdentifier: cluster } : { workgroupName: workgroup as string };

  const secretArn = readName(
    env,
    v.secretArn,
    undefined,
    /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/,
    'a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>)',
  );
  const dbUserTemplate = readString(env, v.dbUserTemplate) ?? DEFAULT_DB_USER_TEMPLATE;
  dbUserNamespace(dbUserTemplate);
  const deniedDbUsers = readDbUserList(env, v.deniedDbUsers);
  const logSql = readFlag(env, v.logSql, false);

  return {
    sessionKeepAliveSeconds,
    sessionIdleTimeoutSeconds,
    sessionsTableName,
    database,
    target,
    secretArn,
    dbUserTemplate,
    deniedDbUsers,
    maxSessionsPerTenant,
    acquireWaitMilliseconds,
    resultInlineMaxBytes,
    resultsBucketName,
    resultRetentionDays,
    resultPartBytes,
    submitWaitSeconds,
    pollWaitSeconds,
    queryTimeoutSeconds,
    logSql,
  };
}

// ---------------------------------------------------------------------------------------------
// The tenant boundary: which database user a tenant's statements run as. Whoever starts an
// execution chooses the tenant id, so the id must never be able to name a user it should not be.
// ---------------------------------------------------------------------------------------------

/** `acme` runs as `tenant_acme`: the fixed part keeps tenants' users apart from everyone else's. */
export const DEFAULT_DB_USER_TEMPLATE = 'tenant_{tenant}';

const TENANT_PLACEHOLDER = '{tenant}';

/** What {@link CONFIG_VARIABLES.dbUserTemplate} allows, in the words every message about it uses. */
export const DB_USER_TEMPLATE_RULE =
  'contain "{tenant}" once and otherwise only lowercase letters, digits and "_", start with a letter, "_" or "{tenant}", and have a fixed part of at least 2 characters that are not all "_" before or after {tenant} (e.g. tenant_{tenant} or {tenant}_ro), so that the tenants\' users are a namespace of their own';

/**
 * Every tenant's user is `<prefix><tenant><suffix>`: the IAM grant for temporary credentials is
 * `dbuser:<cluster>/<prefix>*<suffix>`, which no administrator or system user falls in unless the
 * deployment names one so.
 */
export interface DbUserNamespace {
  prefix: string;
  suffix: string;
}

/** The names Redshift and PostgreSQL keep for themselves and their administrators. */
export const RESERVED_DB_USERS = ['rdsdb', 'postgres', 'awsuser', 'admin', 'root'] as const;
/** Prefixes of system users: PostgreSQL's roles, Redshift's internal and IAM-derived users. */
export const RESERVED_DB_USER_PREFIXES = ['pg_', 'rds', 'aws', 'iam:', 'iamr:'] as const;

const isFixedPart = (text: string) => text.length >= 2 && /[^_]/.test(text);

/**
 * The fixed text around `{tenant}` in a template, checked against {@link DB_USER_TEMPLATE_RULE}.
 * The one check of a template, for the functions at start-up and for the CDK app at synth.
 *
 * @throws {ConfigurationError} naming `SPECTRA_DB_USER_TEMPLATE` and the rule.
 */
export function dbUserNamespace(template: string): DbUserNamespace {
  const refuse = (problem: string) =>
    new ConfigurationError(
      `${CONFIG_VARIABLES.dbUserTemplate} must ${DB_USER_TEMPLATE_RULE}; got "${template}" (${problem})`,
    );
  const at = template.indexOf(TENANT_PLACEHOLDER);
  if (at < 0) throw refuse('no {tenant}');
  const prefix = template.slice(0, at);
  const suffix = template.slice(at + TENANT_PLACEHOLDER.length);
  if (suffix.includes(TENANT_PLACEHOLDER)) throw refuse('{tenant} more than once');
  if (!/^[a-z0-9_]*$/.test(prefix + suffix)) throw refuse('other characters than a-z, 0-9 and "_"');
  if (/^[0-9]/.test(prefix)) throw refuse('a user name cannot start with a digit');
  if (!isFixedPart(prefix) && !isFixedPart(suffix)) {
    throw refuse(
      'no fixed part: tenant ids would be database user names as they are, such as awsuser or rdsdb',
    );
  }
  const reserved = RESERVED_DB_USER_PREFIXES.find((start) => prefix.startsWith(start));
  if (reserved !== undefined) {
    throw refuse(`every user would start with "${reserved}", which system users start with`);
  }
  return { prefix, suffix };
}

/**
 * The database user a tenant's statements run as. Tenant ids allow "-", which Redshift user names
 * do not, so "-" becomes "_" (`tenant-123` → `tenant_tenant_123`). Tenant ids never contain "_"
 * (see the input schema), so two tenants can never map to one user.
 */
export function dbUserFor(tenantId: string, template: string): string {
  return template.replace(TENANT_PLACEHOLDER, tenantId.replaceAll('-', '_'));
}

/** Why `dbUser` can never be a tenant's user, or undefined when it can be. */
export function reservedDbUserReason(dbUser: string, deniedDbUsers: readonly string[]) {
  if ((RESERVED_DB_USERS as readonly string[]).includes(dbUser))
    return 'is a Redshift or PostgreSQL system or administrator user';
  const start = RESERVED_DB_USER_PREFIXES.find((prefix) => dbUser.startsWith(prefix));
  if (start !== undefined) return `starts with "${start}", as system users do`;
  if (deniedDbUsers.includes(dbUser)) return `is denied by ${CONFIG_VARIABLES.deniedDbUsers}`;
  return undefined;
}

/**
 * The tenant's database user, refused when it is a system or administrator name: the template's
 * namespace already keeps those out, and this holds even for a deployment whose administrators
 * share the namespace ({@link CONFIG_VARIABLES.deniedDbUsers}).
 *
 * @throws {InvalidInputError} when the user is reserved or denied; nothing has been touched.
 */
export function tenantDbUser(
  tenantId: string,
  config: Pick<Config, 'dbUserTemplate' | 'deniedDbUsers'>,
): string {
  const dbUser = dbUserFor(tenantId, config.dbUserTemplate);
  const reason = reservedDbUserReason(dbUser, config.deniedDbUsers);
  if (reason !== undefined) {
    throw new InvalidInputError(
      `Invalid input: tenantId "${tenantId}" would run as database user "${dbUser}", which ${reason}; a tenant never runs as a system or administrator user`,
    );
  }
  return dbUser;
}
