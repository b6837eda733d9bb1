import { ConfigurationError } from './errors.ts';

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
  dbUserTemplate: string;
  maxSessionsPerTenant: number;
  /** How long AcquireSession waits for a leased session of the tenant before opening a new one. */
  acquireWaitMilliseconds: number;
  resultInlineMaxBytes: number;
  /** How long SubmitQuery holds ExecuteStatement on the server (`WaitTimeSeconds`); 0 returns at once. */
  submitWaitSeconds: number;
  /** How long PollStatus holds DescribeStatement on the server; 0 polls without waiting. */
  pollWaitSeconds: number;
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
  maxSessions: 'SPECTRA_MAX_SESSIONS_PER_TENANT',
  acquireWait: 'SPECTRA_ACQUIRE_WAIT_MILLISECONDS',
  resultMaxBytes: 'SPECTRA_RESULT_INLINE_MAX_BYTES',
  submitWait: 'SPECTRA_SUBMIT_WAIT_SECONDS',
  pollWait: 'SPECTRA_POLL_WAIT_SECONDS',
} as const;

/**
 * The largest inline result allowed. Step Functions refuses state payloads over 256 KiB; the rest
 * of the output (ids, column list) needs room too.
 */
export const RESULT_INLINE_MAX_BYTES_LIMIT = 250_000;

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
  // The Data API accepts WaitTimeSeconds up to 30.
  const submitWaitSeconds = readInteger(env, v.submitWait, 5, 0, 30);
  const pollWaitSeconds = readInteger(env, v.pollWait, 20, 0, 30);
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
  const dbUserTemplate = readString(env, v.dbUserTemplate) ?? '{tenant}';
  if (!dbUserTemplate.includes('{tenant}') || !/^[a-z0-9_{}]+$/.test(dbUserTemplate)) {
    throw new ConfigurationError(
      `${v.dbUserTemplate} must contain "{tenant}" and otherwise only lowercase letters, digits and "_"; got "${dbUserTemplate}"`,
    );
  }

  return {
    sessionKeepAliveSeconds,
    sessionIdleTimeoutSeconds,
    sessionsTableName,
    database,
    target,
    secretArn,
    dbUserTemplate,
    maxSessionsPerTenant,
    acquireWaitMilliseconds,
    resultInlineMaxBytes,
    submitWaitSeconds,
    pollWaitSeconds,
  };
}

/**
 * The database user a tenant's statements run as. Tenant ids allow "-", which Redshift user names
 * do not, so "-" becomes "_" (`tenant-123` → `tenant_123`). Tenant ids never contain "_" (see the
 * input schema), so two tenants can never map to one user.
 */
export function dbUserFor(tenantId: string, template: string): string {
  return template.replaceAll('{tenant}', tenantId.replaceAll('-', '_'));
}
