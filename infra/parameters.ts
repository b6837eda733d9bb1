import { isDeepStrictEqual } from 'node:util';
import { RemovalPolicy } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { LogLevel as StateMachineLogLevel } from 'aws-cdk-lib/aws-stepfunctions';
import type { Node } from 'constructs';
import {
  CONFIG_VARIABLES,
  type Config,
  DEFAULT_DB_USER_TEMPLATE,
  loadConfig,
  QUERY_TIMEOUT_SECONDS,
  RESULT_PART_BYTES,
  RESULT_RETENTION_DAYS,
} from '../functions/common/config.ts';
import { ConfigurationError } from '../functions/common/errors.ts';

/**
 * The deployment's parameters: CDK context (`cdk deploy -c clusterIdentifier=analytics`) or the
 * stack's `parameters` prop, which wins. The ones the functions read are checked by the functions'
 * own `loadConfig`, on the exact environment they will get, so that a deployment can never hand a
 * function a configuration it would refuse at start-up.
 */

/** Each parameter, with the environment variable it becomes when the functions read it. */
export const PARAMETERS = {
  clusterIdentifier: {
    variable: CONFIG_VARIABLES.cluster,
    help: 'the provisioned cluster to run on',
  },
  workgroupName: {
    variable: CONFIG_VARIABLES.workgroup,
    help: 'the Redshift Serverless workgroup to run on',
  },
  workgroupId: {
    variable: undefined,
    help: "the workgroup's id (its ARN ends in workgroup/<id>); scopes the IAM policy to it",
  },
  database: { variable: CONFIG_VARIABLES.database, help: 'the database, default dev' },
  secretArn: {
    variable: CONFIG_VARIABLES.secretArn,
    help: 'a Secrets Manager secret to connect with instead of per-tenant database users',
  },
  dbUserTemplate: {
    variable: CONFIG_VARIABLES.dbUserTemplate,
    help: `the database user of a tenant, with a fixed part, default ${DEFAULT_DB_USER_TEMPLATE}`,
  },
  deniedDbUsers: {
    variable: CONFIG_VARIABLES.deniedDbUsers,
    help: 'comma-separated database users no tenant may run as (your administrators), default none',
  },
  keepAliveSeconds: {
    variable: CONFIG_VARIABLES.keepAlive,
    help: 'how long the Data API keeps an idle session, default 3600',
  },
  idleTimeoutSeconds: {
    variable: CONFIG_VARIABLES.idleTimeout,
    help: 'how long Spectra reuses an idle session, default 300',
  },
  maxSessionsPerTenant: {
    variable: CONFIG_VARIABLES.maxSessions,
    help: "the cap on a tenant's pool, default 4",
  },
  acquireWaitMilliseconds: {
    variable: CONFIG_VARIABLES.acquireWait,
    help: 'how long AcquireSession waits for a leased session before opening one, default 1000',
  },
  resultInlineMaxBytes: {
    variable: CONFIG_VARIABLES.resultMaxBytes,
    help: 'the largest result returned inline, default 200000',
  },
  resultRetentionDays: {
    variable: CONFIG_VARIABLES.resultRetention,
    help: `how many days a result written to the results bucket is kept (${RESULT_RETENTION_DAYS.min}-${RESULT_RETENTION_DAYS.max}), default ${RESULT_RETENTION_DAYS.default}`,
  },
  resultPartBytes: {
    variable: CONFIG_VARIABLES.resultPartBytes,
    help: `uncompressed bytes per part of a written result, default ${RESULT_PART_BYTES.default}`,
  },
  resultsKeyArn: {
    variable: undefined,
    help: 'a KMS key to encrypt the results bucket with, default S3-managed keys (SSE-S3)',
  },
  submitWaitSeconds: {
    variable: CONFIG_VARIABLES.submitWait,
    help: 'how long SubmitQuery waits on the server, default 5',
  },
  pollWaitSeconds: {
    variable: CONFIG_VARIABLES.pollWait,
    help: 'how long PollStatus waits on the server, default 20',
  },
  queryTimeoutSeconds: {
    variable: CONFIG_VARIABLES.queryTimeout,
    help: `how long a query may run when its input sets no timeoutSeconds (${QUERY_TIMEOUT_SECONDS.min}-${QUERY_TIMEOUT_SECONDS.max}), default ${QUERY_TIMEOUT_SECONDS.default}`,
  },
  logSql: {
    variable: CONFIG_VARIABLES.logSql,
    help: "whether the functions log SQL text, parameter values and Redshift's error text (exposes tenants' data), default false",
  },
  logLevel: { variable: undefined, help: 'the log level of the functions, default INFO' },
  logRetentionDays: { variable: undefined, help: 'how long logs are kept, default 30' },
  removalPolicy: {
    variable: undefined,
    help: 'what deleting the stack does to the table and logs: retain or destroy, default retain',
  },
  stateMachineLogLevel: {
    variable: undefined,
    help: "the state machine's log level: ALL, ERROR, FATAL or OFF, default ALL",
  },
  includeExecutionData: {
    variable: undefined,
    help: "whether the state machine's logs include inputs and outputs, i.e. SQL and rows, default false",
  },
  alarmTopicArn: { variable: undefined, help: 'an SNS topic the alarms notify' },
} as const;

export type SpectraParameterName = keyof typeof PARAMETERS;

/** Values as they come: strings from `-c`, any JSON type from cdk.json or the stack props. */
export type SpectraParameterInput = Partial<
  Record<SpectraParameterName, string | number | boolean>
>;

export const POWERTOOLS_LOG_LEVELS = [
  'TRACE',
  'DEBUG',
  'INFO',
  'WARN',
  'ERROR',
  'CRITICAL',
  'SILENT',
] as const;
export type PowertoolsLogLevel = (typeof POWERTOOLS_LOG_LEVELS)[number];

/** What the stack is built from. */
export interface SpectraSettings {
  /** The configuration every function will load, as `loadConfig` returned it. */
  config: Config;
  /** The SPECTRA_* variables for the functions, without the table name, which CloudFormation names. */
  environment: Record<string, string>;
  workgroupId: string | undefined;
  logLevel: PowertoolsLogLevel;
  logRetention: RetentionDays;
  removalPolicy: RemovalPolicy;
  stateMachineLogLevel: StateMachineLogLevel;
  includeExecutionData: boolean;
  alarmTopicArn: string | undefined;
  /** Encrypts the results bucket; undefined: S3-managed keys. */
  resultsKeyArn: string | undefined;
}

/** A parameter is missing, malformed or contradicts another; the message names it and says why. */
export class SpectraParameterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SpectraParameterError';
  }
}

const HOW_TO_SET = "Set parameters with `-c name=value` (or the stack's `parameters` prop).";

function invalid(name: SpectraParameterName, problem: string): SpectraParameterError {
  return new SpectraParameterError(
    `Invalid Spectra parameter "${name}" (${PARAMETERS[name].help}): ${problem}. ${HOW_TO_SET}`,
  );
}

/** Reads every parameter from the CDK context visible at `node`. */
export function readContextParameters(node: Node): SpectraParameterInput {
  const input: SpectraParameterInput = {};
  for (const name of Object.keys(PARAMETERS) as SpectraParameterName[]) {
    const value: unknown = node.tryGetContext(name);
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      throw invalid(name, `must be a string, number or boolean; got ${JSON.stringify(value)}`);
    }
    input[name] = value;
  }
  return input;
}

/** A value as text, or undefined when unset or blank (as `-c name=` gives). */
function text(input: SpectraParameterInput, name: SpectraParameterName): string | undefined {
  const value = input[name];
  if (value === undefined) return undefined;
  const trimmed = String(value).trim();
  return trimmed === '' ? undefined : trimmed;
}

function oneOf<T extends string>(
  input: SpectraParameterInput,
  name: SpectraParameterName,
  allowed: readonly T[],
  fallback: T,
): T {
  const value = text(input, name);
  if (value === undefined) return fallback;
  const match = allowed.find((candidate) => candidate.toLowerCase() === value.toLowerCase());
  if (match === undefined)
    throw invalid(name, `must be one of ${allowed.join(', ')}; got "${value}"`);
  return match;
}

function flag(input: SpectraParameterInput, name: SpectraParameterName, fallback: boolean) {
  const value = text(input, name);
  if (value === undefined) return fallback;
  if (/^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
  throw invalid(name, `must be true or false; got "${value}"`);
}

const RETENTION_DAYS = Object.values(RetentionDays).filter(
  (days): days is RetentionDays => typeof days === 'number' && days > 0,
);

function retention(input: SpectraParameterInput): RetentionDays {
  const value = text(input, 'logRetentionDays');
  if (value === undefined) return RetentionDays.ONE_MONTH;
  const days = Number(value);
  const match = RETENTION_DAYS.find((allowed) => allowed === days);
  if (match === undefined) {
    throw invalid(
      'logRetentionDays',
      `must be a retention CloudWatch Logs offers (${RETENTION_DAYS.join(', ')}); got "${value}"`,
    );
  }
  return match;
}

const REMOVAL_POLICIES = { retain: RemovalPolicy.RETAIN, destroy: RemovalPolicy.DESTROY } as const;

const STATE_MACHINE_LOG_LEVELS = {
  ALL: StateMachineLogLevel.ALL,
  ERROR: StateMachineLogLevel.ERROR,
  FATAL: StateMachineLogLevel.FATAL,
  OFF: StateMachineLogLevel.OFF,
} as const;

/** Where the compute target is: exactly one of a cluster and a workgroup, said in CDK terms. */
function checkTarget(input: SpectraParameterInput): void {
  const cluster = text(input, 'clusterIdentifier');
  const workgroup = text(input, 'workgroupName');
  if (cluster === undefined && workgroup === undefined) {
    throw new SpectraParameterError(
      'Missing Spectra parameter: set clusterIdentifier (a provisioned cluster, -c clusterIdentifier=<id>) or workgroupName (Redshift Serverless, -c workgroupName=<name>); neither is set.',
    );
  }
  if (cluster !== undefined && workgroup !== undefined) {
    throw new SpectraParameterError(
      `Contradictory Spectra parameters: clusterIdentifier ("${cluster}") and workgroupName ("${workgroup}") are both set; a deployment runs on one provisioned cluster or one Serverless workgroup, so set only one.`,
    );
  }
  const workgroupId = text(input, 'workgroupId');
  if (workgroupId !== undefined && workgroup === undefined) {
    throw new SpectraParameterError(
      `Contradictory Spectra parameters: workgroupId ("${workgroupId}") is set but workgroupName is not; workgroupId only narrows a Serverless workgroup's IAM policy.`,
    );
  }
  if (
    workgroupId !== undefined &&
    !/^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$/.test(workgroupId)
  ) {
    throw invalid(
      'workgroupId',
      `must be the workgroup's id, a UUID such as 3f1b2c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d; got "${workgroupId}"`,
    );
  }
}

/**
 * Runs the functions' own configuration check on the environment built from the parameters, and
 * re-words its error in the parameter's name (the variable's name stays in the message: it is what
 * a function's configuration page shows).
 */
function loadFunctionConfig(env: Record<string, string | undefined>): Config {
  try {
    return loadConfig(env);
  } catch (error) {
    if (!(error instanceof ConfigurationError)) throw error;
    const entry = Object.entries(PARAMETERS).find(
      ([, parameter]) =>
        parameter.variable !== undefined && error.message.includes(parameter.variable),
    );
    if (entry === undefined) throw new SpectraParameterError(`${error.message}. ${HOW_TO_SET}`);
    throw invalid(entry[0] as SpectraParameterName, error.message);
  }
}

/** A valid name that stands in for the table's, which CloudFormation generates at deploy time. */
const TABLE_NAME_STAND_IN = 'spectra-sessions';

/** The SPECTRA_* variables that make `loadConfig` return exactly `config`. */
function environmentOf(config: Config): Record<string, string> {
  const v = CONFIG_VARIABLES;
  return {
    ...('clusterIdentifier' in config.target
      ? { [v.cluster]: config.target.clusterIdentifier }
      : { [v.workgroup]: config.target.workgroupName }),
    [v.database]: config.database,
    ...(config.secretArn === undefined ? {} : { [v.secretArn]: config.secretArn }),
    [v.dbUserTemplate]: config.dbUserTemplate,
    ...(config.deniedDbUsers.length === 0
      ? {}
      : { [v.deniedDbUsers]: config.deniedDbUsers.join(',') }),
    [v.keepAlive]: String(config.sessionKeepAliveSeconds),
    [v.idleTimeout]: String(config.sessionIdleTimeoutSeconds),
    [v.maxSessions]: String(config.maxSessionsPerTenant),
    [v.acquireWait]: String(config.acquireWaitMilliseconds),
    [v.resultMaxBytes]: String(config.resultInlineMaxBytes),
    [v.resultsBucket]: config.resultsBucketName,
    [v.resultRetention]: String(config.resultRetentionDays),
    [v.resultPartBytes]: String(config.resultPartBytes),
    [v.submitWait]: String(config.submitWaitSeconds),
    [v.pollWait]: String(config.pollWaitSeconds),
    [v.queryTimeout]: String(config.queryTimeoutSeconds),
    [v.logSql]: String(config.logSql),
  };
}

/**
 * Checks every parameter and builds the stack's settings.
 *
 * @throws {SpectraParameterError} naming the parameter that is missing, malformed or contradictory.
 */
export function resolveSettings(input: SpectraParameterInput): SpectraSettings {
  checkTarget(input);
  const env: Record<string, string | undefined> = {
    [CONFIG_VARIABLES.table]: TABLE_NAME_STAND_IN,
  };
  for (const [name, parameter] of Object.entries(PARAMETERS)) {
    if (parameter.variable !== undefined)
      env[parameter.variable] = text(input, name as SpectraParameterName);
  }
  const config = loadFunctionConfig(env);

  // The functions get every value spelled out, so that the console shows what they run with; the
  // same check must accept it and read back the same configuration.
  const environment = environmentOf(config);
  const reread = loadConfig({ ...environment, [CONFIG_VARIABLES.table]: TABLE_NAME_STAND_IN });
  if (!isDeepStrictEqual(reread, config)) {
    throw new Error(
      'infra/parameters.ts does not forward every setting of functions/common/config.ts; update environmentOf()',
    );
  }

  const alarmTopicArn = text(input, 'alarmTopicArn');
  if (
    alarmTopicArn !== undefined &&
    !/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}$/.test(alarmTopicArn)
  ) {
    throw invalid('alarmTopicArn', `must be an SNS topic ARN; got "${alarmTopicArn}"`);
  }
  const resultsKeyArn = text(input, 'resultsKeyArn');
  if (
    resultsKeyArn !== undefined &&
    !/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[0-9a-f-]{36}$/.test(resultsKeyArn)
  ) {
    throw invalid(
      'resultsKeyArn',
      `must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<key id>); got "${resultsKeyArn}"`,
    );
  }
  const removal = oneOf(input, 'removalPolicy', ['retain', 'destroy'], 'retain');
  const stateMachineLogLevel = oneOf(
    input,
    'stateMachineLogLevel',
    ['ALL', 'ERROR', 'FATAL', 'OFF'],
    'ALL',
  );
  return {
    config,
    environment,
    workgroupId: text(input, 'workgroupId'),
    logLevel: oneOf(input, 'logLevel', POWERTOOLS_LOG_LEVELS, 'INFO'),
    logRetention: retention(input),
    removalPolicy: REMOVAL_POLICIES[removal],
    stateMachineLogLevel: STATE_MACHINE_LOG_LEVELS[stateMachineLogLevel],
    includeExecutionData: flag(input, 'includeExecutionData', false),
    alarmTopicArn,
    resultsKeyArn,
  };
}
