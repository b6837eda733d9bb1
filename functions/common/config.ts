import {
  CONFIG_TABLE,
  CONFIG_VARIABLES,
  type FlagSetting,
  type IntegerSetting,
  type ListSetting,
  type NameSetting,
} from './config-table.ts';
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
  /**
   * The cap on the sessions the pools of every tenant hold together on the cluster or workgroup,
   * kept below the Data API's 500 so that one tenant's burst cannot take every session.
   */
  maxSessionsTotal: number;
  /**
   * How long AcquireSession waits for a leased session of a tenant whose pool is at its cap,
   * before it fails with SessionPoolExhaustedError.
   */
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

export { CONFIG_VARIABLES };

/**
 * The range of a query's timeout, in seconds ({@link Config.queryTimeoutSeconds} and the input's
 * `timeoutSeconds`).
 */
export const QUERY_TIMEOUT_SECONDS = CONFIG_TABLE.queryTimeout;

function readString(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function readInteger(env: Env, setting: IntegerSetting): number {
  const { variable: name, min, max } = setting;
  const raw = readString(env, name);
  if (raw === undefined) return setting.default;
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

function readFlag(env: Env, setting: FlagSetting): boolean {
  const name = setting.variable;
  const raw = readString(env, name);
  if (raw === undefined) return setting.default;
  if (!/^(true|false)$/i.test(raw))
    throw new ConfigurationError(`${name} must be true or false; got "${raw}"`);
  return raw.toLowerCase() === 'true';
}

/**
 * Redshift's rule for user names, as Spectra writes them: lowercase (Redshift folds unquoted names
 * to lowercase), a letter or "_" first, at most 127 characters.
 */
export const DB_USER_NAME_PATTERN = /^[a-z_][a-z0-9_$]{0,126}$/;

function readDbUserList(env: Env, setting: ListSetting): string[] {
  const name = setting.variable;
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

function readName<S extends NameSetting>(
  env: Env,
  setting: S,
): S['default'] extends string ? string : string | undefined;
function readName(env: Env, setting: NameSetting): string | undefined {
  const value = readString(env, setting.variable) ?? setting.default;
  if (value !== undefined && !setting.pattern.test(value)) {
    throw new ConfigurationError(`${setting.variable} must be ${setting.allowed}; got "${value}"`);
  }
  return value;
}

type IntegerKey = {
  [K in keyof typeof CONFIG_TABLE]: (typeof CONFIG_TABLE)[K] extends IntegerSetting ? K : never;
}[keyof typeof CONFIG_TABLE];
type IntegerField = keyof typeof INTEGER_FIELDS;

/**
 * The whole-number settings, by the {@link Config} field each fills: what {@link loadConfig}
 * reads, and what a deployment writes back as variables.
 */
export const INTEGER_FIELDS = {
  sessionKeepAliveSeconds: 'keepAlive',
  sessionIdleTimeoutSeconds: 'idleTimeout',
  maxSessionsPerTenant: 'maxSessions',
  maxSessionsTotal: 'maxSessionsTotal',
  acquireWaitMilliseconds: 'acquireWait',
  resultInlineMaxBytes: 'resultMaxBytes',
  resultRetentionDays: 'resultRetention',
  resultPartBytes: 'resultPartBytes',
  submitWaitSeconds: 'submitWait',
  pollWaitSeconds: 'pollWait',
  queryTimeoutSeconds: 'queryTimeout',
} as const satisfies { [F in keyof Config]?: IntegerKey };

/**
 * Reads and checks the configuration once. Throws a {@link ConfigurationError} naming the variable
 * and what it allows, so a bad deployment fails at start-up instead of on the first query.
 */
export function loadConfig(env: Env = process.env): Config {
  const t = CONFIG_TABLE;
  const integers = Object.fromEntries(
    Object.entries(INTEGER_FIELDS).map(([field, key]) => [field, readInteger(env, t[key])]),
  ) as Record<IntegerField, number>;
  const resultsBucketName = readName(env, t.resultsBucket);
  const sessionsTableName = readName(env, t.table);
  const database = readName(env, t.database);

  const cluster = readName(env, t.cluster);
  const workgroup = readName(env, t.workgroup);
  const v = CONFIG_VARIABLES;
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

  const secretArn = readName(env, t.secretArn);
  const dbUserTemplate = readString(env, v.dbUserTemplate) ?? DEFAULT_DB_USER_TEMPLATE;
  dbUserNamespace(dbUserTemplate);
  const deniedDbUsers = readDbUserList(env, t.deniedDbUsers);
  const logSql = readFlag(env, t.logSql);

  return {
    ...integers,
    sessionsTableName,
    database,
    target,
    secretArn,
    dbUserTemplate,
    deniedDbUsers,
    resultsBucketName,
    logSql,
  };
}

// ---------------------------------------------------------------------------------------------
// The tenant boundary: which database user a tenant's statements run as. Whoever starts an
// execution chooses the tenant id, so the id must never be able to name a user it should not be.
// ---------------------------------------------------------------------------------------------

/** `acme` runs as `tenant_acme` (see {@link CONFIG_TABLE.dbUserTemplate}). */
export const DEFAULT_DB_USER_TEMPLATE: string = CONFIG_TABLE.dbUserTemplate.default;

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
