import { SFNClient } from '@aws-sdk/client-sfn';
import type { AwsCredentialIdentity } from '@smithy/types';
import { DEFAULT_DB_USER_TEMPLATE } from '#common/config';
import {
  LOCAL_ACCOUNT,
  LOCAL_CREDENTIALS,
  LOCAL_ENDPOINT,
  LOCAL_SESSIONS_TABLE_NAME,
  LOCAL_STATE_MACHINE_ARN,
} from '../local/identity.ts';
import { ClientConfigurationError, isLoopbackUrl } from './errors.ts';
import type { SpectraClientOptions } from './types.ts';

/**
 * Where the client sends its requests and as whom: the state machine, the sessions table and the
 * SDK configuration, from the options, else the standard AWS environment (`AWS_REGION`,
 * `AWS_PROFILE`, `AWS_ENDPOINT_URL`, ...) as for any AWS tool, else the local stack.
 */

export { LOCAL_ENDPOINT, LOCAL_STATE_MACHINE_ARN };
export const DEFAULT_SESSIONS_TABLE_NAME = LOCAL_SESSIONS_TABLE_NAME;

/** Region names as AWS writes them: `us-east-1`, `us-gov-west-1`, `cn-north-1`. */
const REGION_NAME = /^[a-z0-9]+(-[a-z0-9]+)*$/;
/** The variables an endpoint may come from when no option gives one, in the order they are read. */
const ENDPOINT_VARIABLES = [
  'AWS_ENDPOINT_URL',
  'AWS_ENDPOINT_URL_SFN',
  'AWS_ENDPOINT_URL_DYNAMODB',
];

/** What is wrong with `url` as an endpoint, or undefined when it will do. */
export function endpointProblem(url: string): string | undefined {
  const expected = `expected an http:// or https:// URL such as ${LOCAL_ENDPOINT}`;
  try {
    const { protocol } = new URL(url);
    return protocol === 'http:' || protocol === 'https:' ? undefined : expected;
  } catch {
    return expected;
  }
}

/** What is wrong with `region` as an AWS region, or undefined when it will do. */
export function regionProblem(region: string): string | undefined {
  return REGION_NAME.test(region)
    ? undefined
    : 'expected an AWS region such as us-east-1 (lowercase letters, digits and hyphens)';
}

function check(
  value: string | undefined,
  source: string,
  problemOf: (value: string) => string | undefined,
): void {
  const problem = value === undefined ? undefined : problemOf(value);
  if (problem !== undefined) {
    throw new ClientConfigurationError(`${source}: ${problem}; got ${JSON.stringify(value)}`);
  }
}

/** What the SDK clients are built with. */
export interface SdkConfig {
  region: string | (() => Promise<string>);
  /** Set only when the SDK would not find it in the environment itself. */
  endpoint: string | undefined;
  credentials: AwsCredentialIdentity | undefined;
}

export interface ClientSettings {
  stateMachineArn: string;
  sessionsTableName: string;
  dbUserTemplate: string;
  /** Where requests go when not to AWS itself (option, `AWS_ENDPOINT_URL`, or the local stack). */
  endpoint: string | undefined;
  sdk: SdkConfig;
}

/**
 * @throws {ClientConfigurationError} when the endpoint (option or variable) is not an HTTP URL,
 *   or the region option is not a region name.
 */
export function resolveSettings(
  options: SpectraClientOptions,
  env: NodeJS.ProcessEnv = process.env,
): ClientSettings {
  check(options.region, 'region', regionProblem);
  check(options.endpoint, 'endpoint', endpointProblem);
  if (options.endpoint === undefined) {
    for (const variable of ENDPOINT_VARIABLES) {
      check(env[variable] || undefined, variable, endpointProblem);
    }
  }
  const stateMachineArn =
    options.stateMachineArn ?? (env.SPECTRA_STATE_MACHINE_ARN || LOCAL_STATE_MACHINE_ARN);
  const sessionsTableName =
    options.sessionsTableName ??
    (env.SPECTRA_DYNAMODB_SESSIONS_TABLE_NAME || DEFAULT_SESSIONS_TABLE_NAME);
  const dbUserTemplate =
    options.dbUserTemplate ?? (env.SPECTRA_DB_USER_TEMPLATE || DEFAULT_DB_USER_TEMPLATE);
  const configuredEndpoint =
    options.endpoint ??
    (env.AWS_ENDPOINT_URL ||
      env.AWS_ENDPOINT_URL_SFN ||
      env.AWS_ENDPOINT_URL_DYNAMODB ||
      undefined);
  // The local state machine can only be on the local stack: with no endpoint set, go there
  // rather than to AWS, where the request could only fail.
  const localOnly = stateMachineArn.split(':')[4] === LOCAL_ACCOUNT;
  const endpoint = configuredEndpoint ?? (localOnly ? LOCAL_ENDPOINT : undefined);

  const credentials =
    options.credentials ??
    (endpoint !== undefined && isLoopbackUrl(endpoint) && !env.AWS_ACCESS_KEY_ID && !env.AWS_PROFILE
      ? LOCAL_CREDENTIALS
      : undefined);
  return {
    stateMachineArn,
    sessionsTableName,
    dbUserTemplate,
    endpoint,
    sdk: {
      region: options.region ?? regionProvider(stateMachineArn),
      endpoint: options.endpoint ?? (configuredEndpoint ? undefined : endpoint),
      credentials,
    },
  };
}

/**
 * The SDK's region (`AWS_REGION`, the profile), else the state machine's own region: with only
 * `SPECTRA_STATE_MACHINE_ARN` set, requests still go where the state machine lives.
 */
function regionProvider(stateMachineArn: string): () => Promise<string> {
  let resolved: Promise<string> | undefined;
  const fromSdk = async (): Promise<string> => {
    const probe = new SFNClient({});
    try {
      return await probe.config.region();
    } catch (error) {
      const fallback = regionOfArn(stateMachineArn);
      if (fallback === undefined) throw error;
      return fallback;
    } finally {
      probe.destroy();
    }
  };
  return () => {
    resolved ??= fromSdk();
    return resolved;
  };
}

function regionOfArn(arn: string): string | undefined {
  const region = arn.split(':')[3];
  return region === undefined || region === '' ? undefined : region;
}
