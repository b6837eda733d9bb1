import { isDeepStrictEqual } from 'node:util';
import { RemovalPolicy } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { LogLevel as StateMachineLogLevel } from 'aws-cdk-lib/aws-stepfunctions';
import type { Node } from 'constructs';
import { type Config, INTEGER_FIELDS, loadConfig } from '../functions/common/config.ts';
import {
  CONFIG_SETTINGS,
  CONFIG_TABLE,
  CONFIG_VARIABLES,
  type ConfigKey,
  defaultValueOf,
  type Setting,
} from '../functions/common/config-table.ts';
import { ConfigurationError } from '../functions/common/errors.ts';

/**
 * The deployment's parameters: CDK context (`cdk deploy -c clusterIdentifier=analytics`) or the
 * stack's `parameters` prop, which wins. The ones the functions read are checked by the functions'
 * own `loadConfig`, on the exact environment they will get, so that a deployment can never hand a
 * function a configuration it would refuse at start-up.
 */

/** The help of a function setting's parameter: what it sets, and its default when it has one. */
function helpOf(setting: Setting): string {
  const range =
    setting.kind === 'integer' && setting.helpShowsRange ? ` (${setting.min}-${setting.max})` : '';
  const fallback = setting.kind === 'list' ? 'none' : defaultValueOf(setting);
  return `${setting.help}${range}${fallback === undefined ? '' : `, default ${fallback}`}`;
}

/** The function settings the deployment chooses: every one but those the stack sets itself. */
type SettingParameterName = {
  [K in ConfigKey]: (typeof CONFIG_TABLE)[K] extends { parameter: infer P extends string }
    ? P
    : never;
}[ConfigKey];

/** Parameters of the deployment alone, which no function reads. */
const DEPLOYMENT_PARAMETERS = {
  workgroupId: {
    variable: undefined,
    help: "the workgroup's id (its ARN ends in workgroup/<id>); scopes the IAM policy to it",
  },
  resultsKeyArn: {
    variable: undefined,
    help: 'a KMS key to encrypt the results bucket with, default S3-managed keys (SSE-S3)',
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

interface Parameter {
  /** The environment variable it becomes when the functions read it. */
  variable: string | undefined;
  help: string;
}

/** Each parameter: the function settings of functions/common/config-table.ts, then the deployment's. */
export const PARAMETERS: Record<
  SettingParameterName | keyof typeof DEPLOYMENT_PARAMETERS,
  Parameter
> = {
  ...(Object.fromEntries(
    CONFIG_SETTINGS.flatMap((setting) =>
      setting.parameter === undefined
        ? []
        : [[setting.parameter, { variable: setting.variable, help: helpOf(setting) }]],
    ),
  ) as Record<SettingParameterName, Parameter>),
  ...DEPLOYMENT_PARAMETERS,
};

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
const TABLE_NAME_STAND_IN = CONFIG_TABLE.table.default;

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
    ...Object.fromEntries(
      Object.entries(INTEGER_FIELDS).map(([field, key]) => [
        v[key],
        String(config[field as keyof typeof INTEGER_FIELDS]),
      ]),
    ),
    [v.resultsBucket]: config.resultsBucketName,
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
