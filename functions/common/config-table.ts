/**
 * Every environment variable the functions read: its default, what it allows and what it sets.
 * `loadConfig` checks values against these rows, the CDK app turns them into its parameters
 * (`cdk deploy -c keepAliveSeconds=…`) and their help, the benchmark and the local stack take
 * their defaults from them, and `npm run docs:config` writes the README's configuration table
 * from them (a test fails when the README disagrees). Nothing here imports anything, so the
 * functions' bundles stay small.
 */

interface Row {
  variable: `SPECTRA_${string}`;
  /** The CDK parameter that sets it; none when the stack sets the variable itself. */
  parameter?: string;
  /** What it sets, in the words of the CDK parameter's help (which adds the default). */
  help: string;
  /** More for the README's row, where there is room for it. */
  note?: string;
}

/** A whole number from `min` to `max`. */
export interface IntegerSetting extends Row {
  kind: 'integer';
  default: number;
  min: number;
  max: number;
  /** The CDK help names the range too (where the range is what a user wants to know first). */
  helpShowsRange?: boolean;
}

/** `true` or `false`, in any case. */
export interface FlagSetting extends Row {
  kind: 'flag';
  default: boolean;
}

/** A name of something on AWS; `allowed` is its rule in the words of the error message. */
export interface NameSetting extends Row {
  kind: 'name';
  /** Unset: the setting is required or means what `unset` says. */
  default: string | undefined;
  pattern: RegExp;
  allowed: string;
  /** What leaving it unset means, for a name with no default. */
  unset?: string;
}

/** A text checked by its own rule (the database user template); `allowed` sums the rule up. */
export interface TextSetting extends Row {
  kind: 'text';
  default: string;
  allowed: string;
}

/** A comma-separated list, empty by default. */
export interface ListSetting extends Row {
  kind: 'list';
  allowed: string;
}

export type Setting = IntegerSetting | FlagSetting | NameSetting | TextSetting | ListSetting;

/**
 * The largest inline result allowed. Step Functions refuses state payloads over 256 KiB; the rest
 * of the output (ids, column list) needs room too.
 */
export const RESULT_INLINE_MAX_BYTES_LIMIT = 250_000;

export const CONFIG_TABLE = {
  cluster: {
    variable: 'SPECTRA_REDSHIFT_CLUSTER_IDENTIFIER',
    parameter: 'clusterIdentifier',
    kind: 'name',
    default: undefined,
    pattern: /^[a-z][a-z0-9-]{0,62}$/,
    allowed:
      'a cluster identifier (lowercase letters, digits and "-", starting with a letter; at most 63)',
    help: 'the provisioned cluster to run on',
    note: 'set exactly one of this and `SPECTRA_REDSHIFT_WORKGROUP_NAME`',
  },
  workgroup: {
    variable: 'SPECTRA_REDSHIFT_WORKGROUP_NAME',
    parameter: 'workgroupName',
    kind: 'name',
    default: undefined,
    pattern: /^[a-z0-9-]{3,64}$/,
    allowed: 'a workgroup name (3-64 lowercase letters, digits and "-")',
    help: 'the Redshift Serverless workgroup to run on',
    note: 'set exactly one of this and `SPECTRA_REDSHIFT_CLUSTER_IDENTIFIER`',
  },
  database: {
    variable: 'SPECTRA_REDSHIFT_DATABASE',
    parameter: 'database',
    kind: 'name',
    default: 'dev',
    pattern: /^[a-zA-Z_][a-zA-Z0-9_$]{0,126}$/,
    allowed:
      'a Redshift database name (a letter or "_", then letters, digits, "_" or "$"; at most 127)',
    help: 'the database',
  },
  secretArn: {
    variable: 'SPECTRA_REDSHIFT_SECRET_ARN',
    parameter: 'secretArn',
    kind: 'name',
    default: undefined,
    unset: '`DbUser` authentication',
    pattern: /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/,
    allowed:
      'a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>)',
    help: 'a Secrets Manager secret to connect with instead of per-tenant database users',
  },
  dbUserTemplate: {
    variable: 'SPECTRA_DB_USER_TEMPLATE',
    parameter: 'dbUserTemplate',
    kind: 'text',
    // `acme` runs as `tenant_acme`: the fixed part keeps tenants' users apart from everyone else's.
    default: 'tenant_{tenant}',
    allowed:
      '`{tenant}` once, and a fixed part of 2+ characters (not only `_`) before or after it; lowercase letters, digits and `_`',
    help: 'the database user of a tenant, with a fixed part',
    note: '`tenant-123` → `tenant_tenant_123`',
  },
  deniedDbUsers: {
    variable: 'SPECTRA_DENIED_DB_USERS',
    parameter: 'deniedDbUsers',
    kind: 'list',
    allowed: 'comma-separated database user names',
    help: 'comma-separated database users no tenant may run as (your administrators)',
  },
  keepAlive: {
    variable: 'SPECTRA_REDSHIFT_SESSION_KEEP_ALIVE_SECONDS',
    parameter: 'keepAliveSeconds',
    kind: 'integer',
    default: 3600,
    min: 1,
    max: 86_400,
    help: 'how long the Data API keeps an idle session',
  },
  idleTimeout: {
    variable: 'SPECTRA_REDSHIFT_SESSION_IDLE_TIMEOUT_SECONDS',
    parameter: 'idleTimeoutSeconds',
    kind: 'integer',
    default: 300,
    min: 1,
    max: 86_400,
    help: 'how long Spectra reuses an idle session',
  },
  maxSessions: {
    variable: 'SPECTRA_MAX_SESSIONS_PER_TENANT',
    parameter: 'maxSessionsPerTenant',
    kind: 'integer',
    default: 4,
    min: 1,
    max: 500,
    help: "the cap on a tenant's pool",
  },
  maxSessionsTotal: {
    variable: 'SPECTRA_MAX_SESSIONS_TOTAL',
    parameter: 'maxSessionsTotal',
    kind: 'integer',
    // The Data API's limit is 500 per cluster or workgroup; the rest of the default leaves room for
    // sessions dropped from the pools (they stay open until their keep-alive ends) and other clients.
    default: 400,
    min: 1,
    max: 500,
    help: "the cap on the sessions of every tenant's pool together, on the cluster or workgroup (the Data API allows 500)",
  },
  acquireWait: {
    variable: 'SPECTRA_ACQUIRE_WAIT_MILLISECONDS',
    parameter: 'acquireWaitMilliseconds',
    kind: 'integer',
    default: 1000,
    min: 0,
    // Well inside AcquireSession's 30-second Lambda timeout.
    max: 10_000,
    help: "how long AcquireSession waits for a session to come back when the tenant's pool is at its cap",
    note: '0: never',
  },
  table: {
    variable: 'SPECTRA_DYNAMODB_SESSIONS_TABLE_NAME',
    kind: 'name',
    default: 'spectra-sessions',
    pattern: /^[a-zA-Z0-9_.-]{3,255}$/,
    allowed: '3-255 characters of a-z, A-Z, 0-9, "_", "-" and "."',
    help: 'the DynamoDB table of the session pools',
    note: 'the CDK stack sets its own',
  },
  resultMaxBytes: {
    variable: 'SPECTRA_RESULT_INLINE_MAX_BYTES',
    parameter: 'resultInlineMaxBytes',
    kind: 'integer',
    default: 200_000,
    min: 1024,
    max: RESULT_INLINE_MAX_BYTES_LIMIT,
    help: 'the largest result returned inline',
    note: 'a larger result goes to the results bucket',
  },
  resultsBucket: {
    variable: 'SPECTRA_RESULTS_BUCKET_NAME',
    kind: 'name',
    default: 'spectra-results',
    pattern: /^(?!xn--)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
    allowed:
      'an S3 bucket name (3-63 lowercase letters, digits, "." and "-", starting and ending with a letter or digit)',
    help: 'the bucket results too large to return inline are written to',
    note: 'the CDK stack sets its own',
  },
  resultRetention: {
    variable: 'SPECTRA_RESULT_RETENTION_DAYS',
    parameter: 'resultRetentionDays',
    kind: 'integer',
    default: 7,
    min: 1,
    max: 365,
    helpShowsRange: true,
    help: 'how many days a result written to the results bucket is kept',
    note: "a result's `expiresAt` says when, and the stack's lifecycle rule deletes it then",
  },
  resultPartBytes: {
    variable: 'SPECTRA_RESULT_PART_BYTES',
    parameter: 'resultPartBytes',
    kind: 'integer',
    // 64 KiB to 1 GiB of JSON Lines. 16 MiB is about 2 to 5 MB of gzip, the size of range requests
    // S3 serves best in parallel.
    default: 16 * 1024 * 1024,
    min: 64 * 1024,
    max: 1024 ** 3,
    help: 'uncompressed bytes per part of a written result',
  },
  submitWait: {
    variable: 'SPECTRA_SUBMIT_WAIT_SECONDS',
    parameter: 'submitWaitSeconds',
    kind: 'integer',
    // A typical dashboard query ends inside SubmitQuery.
    default: 5,
    min: 0,
    // The Data API accepts WaitTimeSeconds up to 30.
    max: 30,
    help: 'how long SubmitQuery waits on the server',
    note: '0 returns at once',
  },
  pollWait: {
    variable: 'SPECTRA_POLL_WAIT_SECONDS',
    parameter: 'pollWaitSeconds',
    kind: 'integer',
    // The functions get 60 s, which leaves ample margin.
    default: 20,
    min: 0,
    max: 30,
    help: 'how long PollStatus waits on the server',
    note: '0 polls without waiting',
  },
  queryTimeout: {
    variable: 'SPECTRA_QUERY_TIMEOUT_SECONDS',
    parameter: 'queryTimeoutSeconds',
    kind: 'integer',
    default: 3600,
    min: 1,
    // 24 hours, the longest the Data API runs a statement.
    max: 86_400,
    helpShowsRange: true,
    help: 'how long a query may run when its input sets no timeoutSeconds',
    note: 'from the start of its execution; then its statement is cancelled and the execution fails with `QueryTimeoutError`',
  },
  logSql: {
    variable: 'SPECTRA_LOG_SQL',
    parameter: 'logSql',
    kind: 'flag',
    default: false,
    help: "whether the functions log SQL text, parameter values and Redshift's error text (exposes tenants' data)",
    note: 'a data exposure, for debugging only',
  },
} as const satisfies Record<string, Setting>;

export type ConfigKey = keyof typeof CONFIG_TABLE;

export const CONFIG_SETTINGS: readonly Setting[] = Object.values(CONFIG_TABLE);

/** The variable of each setting, by key. */
export const CONFIG_VARIABLES = Object.fromEntries(
  Object.entries(CONFIG_TABLE).map(([key, setting]) => [key, setting.variable]),
) as { readonly [K in ConfigKey]: (typeof CONFIG_TABLE)[K]['variable'] };

/**
 * The default as the variable would spell it; undefined for a setting with none (a required one,
 * or one whose absence means something, such as no secret).
 */
export function defaultValueOf(setting: Setting): string | undefined {
  if (setting.kind === 'list') return undefined;
  return setting.default === undefined ? undefined : String(setting.default);
}

/** The default for people: the value, or what leaving the setting unset means. */
export function defaultTextOf(setting: Setting): string | undefined {
  if (setting.kind === 'list') return 'none';
  if (setting.kind === 'name' && setting.default === undefined) return setting.unset;
  return defaultValueOf(setting);
}

/** What a setting allows, in few words. */
export function allowedTextOf(setting: Setting): string {
  switch (setting.kind) {
    case 'integer':
      return `${setting.min}–${setting.max}`;
    case 'flag':
      return '`true` or `false`';
    default:
      return setting.allowed;
  }
}

/** The defaults of every setting that has one, as the variables spell them. */
export function configDefaults(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const setting of CONFIG_SETTINGS) {
    const value = defaultValueOf(setting);
    if (value !== undefined) env[setting.variable] = value;
  }
  return env;
}
