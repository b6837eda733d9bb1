import { SFNClient } from '@aws-sdk/client-sfn';
import type { AwsCredentialIdentity } from '@smithy/types';
import { isLoopbackUrl } from './errors.ts';
import type { SpectraClientOptions } from './types.ts';

/**
 * Where the client sends its requests and as whom: the state machine, the sessions table and the
 * SDK configuration, from the options, else the standard AWS environment (`AWS_REGION`,
 * `AWS_PROFILE`, `AWS_ENDPOINT_URL`, ...) as for any AWS tool, else the local stack.
 */

/** The state machine of the local stack (`npm start`). */
export const LOCAL_STATE_MACHINE_ARN =
  'arn:aws:states:us-east-1:000000000000:stateMachine:spectra-query';
export const DEFAULT_SESSIONS_TABLE_NAME = 'spectra-sessions';
/** Where `npm start` listens by default. */
export const LOCAL_ENDPOINT = 'http://127.0.0.1:4599';
/** The local stack's account, which exists nowhere on AWS. */
const LOCAL_ACCOUNT = '000000000000';
const DEFAULT_DB_USER_TEMPLATE = '{tenant}';
/** The local stack accepts any credentials; these spare a local user from configuring any. */
const LOCAL_CREDENTIALS: AwsCredentialIdentity = { accessKeyId: 'local', secretAccessKey: 'local' };

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

export function resolveSettings(
  options: SpectraClientOptions,
  env: NodeJS.ProcessEnv = process.env,
): ClientSettings {
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
