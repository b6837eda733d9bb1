import type { S3Client } from '@aws-sdk/client-s3';
import { dynamoDbDocumentClient, redshiftDataClient, s3Client } from './clients.ts';
import { type Config, loadConfig } from './config.ts';
import { DataApi } from './data-api.ts';
import { type Telemetry, telemetry } from './observability.ts';
import { type SessionPolicy, SessionStore } from './session-store.ts';

/** What every core function works with; tests pass their own, the handlers the module's. */
export interface StepDeps {
  config: Config;
  store: SessionStore;
  dataApi: DataApi;
  /** The results bucket's client (FetchResults). */
  s3: S3Client;
  telemetry: Telemetry;
  clock: () => Date;
}

export function createDeps(
  config: Config,
  overrides: Partial<Omit<StepDeps, 'config'>> = {},
): StepDeps {
  const clock = overrides.clock ?? (() => new Date());
  return {
    config,
    clock,
    telemetry: overrides.telemetry ?? telemetry,
    dataApi: overrides.dataApi ?? new DataApi(redshiftDataClient),
    s3: overrides.s3 ?? s3Client,
    store:
      overrides.store ??
      new SessionStore(
        dynamoDbDocumentClient,
        config.sessionsTableName,
        sessionPolicyOf(config),
        clock,
      ),
  };
}

/** What the store needs to know of the configuration: a session's life and the tenant's cap. */
export function sessionPolicyOf(config: Config): SessionPolicy {
  return {
    keepAliveSeconds: config.sessionKeepAliveSeconds,
    idleTimeoutSeconds: config.sessionIdleTimeoutSeconds,
    maxSessionsPerTenant: config.maxSessionsPerTenant,
    acquireWaitMs: config.acquireWaitMilliseconds,
  };
}

/**
 * Built when a function's module is loaded, i.e. once per Lambda container: configuration errors
 * stop the container at start-up, naming the variable, instead of failing the first query.
 */
export const defaultDeps: StepDeps = createDeps(loadConfig(process.env));
