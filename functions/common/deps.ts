import { dynamoDbDocumentClient, redshiftDataClient } from './clients.ts';
import { type Config, loadConfig } from './config.ts';
import { DataApi } from './data-api.ts';
import { type Telemetry, telemetry } from './observability.ts';
import type { SessionPolicy, SessionPool } from './session-pool.ts';
import { totalSlotsKeyOf } from './session-slots.ts';
import { SessionStore } from './session-store.ts';

/**
 * What every core function works with; tests pass their own, the handlers the module's. A client
 * only one function calls is that function's own (FetchResults' S3, CancelStoppedExecution's Step
 * Functions): referenced from here, it would be in every function's bundle and built at every
 * cold start.
 */
export interface StepDeps {
  config: Config;
  store: SessionPool;
  dataApi: DataApi;
  telemetry: Telemetry;
  clock: () => Date;
  /** How the steps pause while they wait (for a session to come back, a cancel to take). */
  sleep: (ms: number) => Promise<void>;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function createDeps(
  config: Config,
  overrides: Partial<Omit<StepDeps, 'config'>> = {},
): StepDeps {
  const clock = overrides.clock ?? (() => new Date());
  const sleep = overrides.sleep ?? realSleep;
  return {
    config,
    clock,
    sleep,
    telemetry: overrides.telemetry ?? telemetry,
    dataApi: overrides.dataApi ?? new DataApi(redshiftDataClient),
    store:
      overrides.store ??
      new SessionStore(
        dynamoDbDocumentClient,
        config.sessionsTableName,
        sessionPolicyOf(config),
        clock,
        sleep,
      ),
  };
}

/** What the store needs to know of the configuration: a session's life and the caps. */
export function sessionPolicyOf(config: Config): SessionPolicy {
  return {
    keepAliveSeconds: config.sessionKeepAliveSeconds,
    idleTimeoutSeconds: config.sessionIdleTimeoutSeconds,
    maxSessionsPerTenant: config.maxSessionsPerTenant,
    maxSessionsTotal: config.maxSessionsTotal,
    target: totalSlotsKeyOf(config.target),
    acquireWaitMs: config.acquireWaitMilliseconds,
  };
}

/**
 * Built when a function's module is loaded, i.e. once per Lambda container: configuration errors
 * stop the container at start-up, naming the variable, instead of failing the first query. Marked
 * pure so that a bundle whose function builds its own (CleanupSessions) leaves it, and the Data API
 * client it holds, out; `loadConfig()` reads `process.env` itself because esbuild keeps any call
 * whose arguments read a property, and `process.env` is one.
 */
export const defaultDeps: StepDeps = /* @__PURE__ */ createDeps(/* @__PURE__ */ loadConfig());
