import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CONFIG_VARIABLES,
  type Config,
  loadConfig,
  tenantDbUser,
} from '../functions/common/config.ts';
import type { LambdaHandler } from '../functions/common/handler.ts';
import { handlersFor, loadHandler, type WorkflowFunctionName } from '../functions/registry.ts';
import { type LocalClock, realClock } from './clock.ts';
import { ConsoleApi } from './console/api.ts';
import { SessionHitRate, sessionHitOf } from './console/hit-rate.ts';
import { consoleRoutes } from './console/server.ts';
import { type DynamoDbThread, startDynamoDbThread } from './dynamodb/dynamodb-thread.ts';
import { createSessionsTable } from './dynamodb/sessions-table.ts';
import { type Endpoint, startEndpoint } from './endpoint.ts';
import { FaultPlan, lambdaTarget } from './faults.ts';
import {
  consoleUrl,
  DEFAULT_LOCAL_PORT,
  LOCAL_CLUSTER_IDENTIFIER,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  LOCAL_RESULTS_BUCKET_NAME,
  LOCAL_SESSIONS_TABLE_NAME,
  LOCAL_STATE_MACHINE_NAME,
} from './identity.ts';
import { startPostgres } from './postgres-cluster.ts';
import { createRedshiftDataEmulator } from './redshift-data/emulator.ts';
import { createPgliteEngine } from './redshift-data/pglite-engine.ts';
import { createPostgresEngine } from './redshift-data/postgres-engine.ts';
import type { SqlEngine } from './redshift-data/sql-engine.ts';
import { type LocalS3, startLocalS3 } from './s3/s3-service.ts';
import {
  buildHandlers,
  DEFAULT_FUNCTION_THREADS,
  FunctionThreads,
  type HandlerFactory,
} from './stepfunctions/function-threads.ts';
import { invokeLocally, LambdaInvocationError } from './stepfunctions/lambda-invoker.ts';
import { localDefinitionText } from './stepfunctions/local-execution.ts';
import { LocalStepFunctions } from './stepfunctions/service.ts';
import { type ControlState, controlRoutes } from './test-controls.ts';

/**
 * Spectra with no AWS account: one HTTP endpoint that answers the Redshift Data API (emulated on
 * PGlite or PostgreSQL), Step Functions (aws-local-stepfunctions running the real definition, each
 * Task calling the real handler, in process or on the function threads), DynamoDB (dynalite) and
 * S3 (s3rver), with the sessions table, the results bucket and the `spectra-query` state machine
 * ready.
 */

/**
 * Delays before each retry of a failed CancelStoppedExecution: as many retries as the deployed
 * EventBridge target makes (retryAttempts 4), sooner than AWS's backoff.
 */
const CLEANUP_RETRY_DELAYS_MS = [250, 500, 1000, 2000];

export interface LocalStackOptions {
  /** 0 picks a free port. Default: `SPECTRA_LOCAL_PORT` or 4599. */
  port?: number;
  /** A PostgreSQL URL; default `SPECTRA_LOCAL_DATABASE_URL`, else the engine below. */
  databaseUrl?: string;
  /**
   * Without a URL: `pglite` (embedded, the default) or `postgres`, a throwaway PostgreSQL cluster
   * the stack starts from the Debian binaries and removes on stop. Default `SPECTRA_LOCAL_ENGINE`.
   */
  engine?: LocalEngineChoice;
  /** Load the TICKIT demo schema and data (default true). */
  loadDemoData?: boolean;
  /** The Data API's cap on open sessions (default 500, as on AWS). */
  maxDataApiSessions?: number;
  /** The Data API's limit on a result's size (default 100 MB, see DATA_API_RESULT_LIMIT_BYTES). */
  maxDataApiResultBytes?: number;
  /** Milliseconds per Wait state name. */
  waitTimeOverrides?: Record<string, number>;
  /** Milliseconds before each retry, per state name (tests retry at once). */
  retryIntervalOverrides?: Record<string, number>;
  /**
   * The stack's clock (local/clock.ts; default the machine's). A SimulatedClock runs the Data
   * API's long-polls and held statements, the Wait states and the workflow's functions on
   * simulated time: a query of hours takes seconds.
   */
  clock?: LocalClock;
  /**
   * How many worker threads run the workflow's handlers (local/stepfunctions/function-threads.ts
   * says why); 0 runs them in process, on the loop every emulated service answers on. Default
   * `SPECTRA_LOCAL_FUNCTION_THREADS`, else 0. On a simulated `clock` the handlers always run in
   * process: the clock lives on the main thread, and a thread's functions would read the
   * machine's. Asking for threads with a clock is an error; the variable is then ignored.
   */
  functionThreads?: number;
}

export type LocalEngineChoice = 'pglite' | 'postgres';

/** `SPECTRA_LOCAL_ENGINE`, checked: unset is PGlite. */
export function readEngineChoice(value: string | undefined): LocalEngineChoice {
  if (value === undefined || value === '' || value === 'pglite') return 'pglite';
  if (value === 'postgres') return 'postgres';
  throw new Error(
    `SPECTRA_LOCAL_ENGINE must be "pglite" (embedded, the default) or "postgres" (a throwaway PostgreSQL cluster); got "${value}"`,
  );
}

/**
 * The SQL engine the Data API emulator runs on: a given server, a throwaway cluster of the
 * stack's own, or PGlite. `stop` also removes the cluster.
 */
async function startEngine(
  options: LocalStackOptions,
): Promise<{ engine: SqlEngine; stop(): Promise<void>; ownCluster: boolean }> {
  const databaseUrl = options.databaseUrl ?? process.env.SPECTRA_LOCAL_DATABASE_URL;
  if (databaseUrl) {
    const engine = await createPostgresEngine(databaseUrl);
    return { engine, stop: () => engine.close(), ownCluster: false };
  }
  if ((options.engine ?? readEngineChoice(process.env.SPECTRA_LOCAL_ENGINE)) === 'postgres') {
    const cluster = await startPostgres();
    try {
      const engine = await createPostgresEngine(cluster.url);
      return {
        engine,
        ownCluster: true,
        async stop() {
          await engine.close();
          await cluster.stop();
        },
      };
    } catch (error) {
      await cluster.stop();
      throw error;
    }
  }
  const engine = await createPgliteEngine();
  return { engine, stop: () => engine.close(), ownCluster: false };
}

export interface LocalStack {
  url: string;
  port: number;
  stateMachineArn: string;
  /** The console's address: `<url>/console`. */
  consoleUrl: string;
  engineKind: SqlEngine['kind'];
  /** True when the engine is a PostgreSQL cluster the stack started itself. */
  ownCluster: boolean;
  endpoint: Endpoint;
  stepFunctions: LocalStepFunctions;
  controls: ControlState;
  /** The results bucket's S3. */
  s3: LocalS3;
  /** How many worker threads run the workflow's handlers; 0: in process. */
  functionThreads: number;
  /**
   * The handlers `factory` builds, run where the stack runs its own: on its function threads, or
   * in process. The benchmark registers its variants with these, so every design runs the same
   * way. Not for a simulated clock's handlers, which the stack builds itself.
   */
  workflowHandlers(factory: HandlerFactory): Promise<Record<WorkflowFunctionName, LambdaHandler>>;
  stop(): Promise<void>;
}

/** The real handlers (functions/registry.ts), built on a function thread or in process. */
const REAL_HANDLERS: HandlerFactory = {
  moduleUrl: new URL('../functions/registry.ts', import.meta.url).href,
  exportName: 'loadHandlers',
};

/** The workflow's handlers with the functions' clock reading `clock`. */
async function handlersOnClock(config: Config, clock: LocalClock) {
  // Imported once the environment is set: the functions' modules read it on load.
  const { createDeps } = await import('../functions/common/deps.ts');
  return handlersFor(createDeps(config, { clock: () => new Date(clock.now()) }));
}

/** `SPECTRA_LOCAL_FUNCTION_THREADS`, checked: unset or 0 is in process, `auto` one per core. */
export function readFunctionThreads(value: string | undefined): number {
  if (value === undefined || value === '') return 0;
  if (value === 'auto') return DEFAULT_FUNCTION_THREADS;
  const count = Number(value);
  if (!Number.isInteger(count) || count < 0 || count > 64) {
    throw new Error(
      `SPECTRA_LOCAL_FUNCTION_THREADS must be 0 (the functions run in process, the default), a number of worker threads up to 64, or "auto" (one per core, ${DEFAULT_FUNCTION_THREADS} here); got "${value}"`,
    );
  }
  return count;
}

/** The number of function threads the options ask for (see LocalStackOptions.functionThreads). */
function functionThreadsOf(options: LocalStackOptions): number {
  if (options.clock === undefined)
    return (
      options.functionThreads ?? readFunctionThreads(process.env.SPECTRA_LOCAL_FUNCTION_THREADS)
    );
  if (options.functionThreads)
    throw new Error(
      'functionThreads cannot be used with a simulated clock: the clock lives on the main thread, so the functions run in process on it',
    );
  return 0;
}

function readPort(value: string | undefined): number {
  if (value === undefined || value === '') return DEFAULT_LOCAL_PORT;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new Error(
      `SPECTRA_LOCAL_PORT must be a port number from 0 to 65535 (0 picks a free one); got "${value}"`,
    );
  }
  return port;
}

/**
 * Points the in-process functions (and any SDK client created later in this process) at the
 * endpoint. Service-specific endpoint variables would win over AWS_ENDPOINT_URL, so they go.
 */
function configureEnvironment(url: string): void {
  process.env.AWS_ENDPOINT_URL = url;
  for (const name of [
    'AWS_ENDPOINT_URL_DYNAMODB',
    'AWS_ENDPOINT_URL_REDSHIFT_DATA',
    'AWS_ENDPOINT_URL_SFN',
    'AWS_ENDPOINT_URL_S3',
  ])
    delete process.env[name];
  process.env.AWS_REGION = LOCAL_REGION;
  process.env.AWS_ACCESS_KEY_ID ??= LOCAL_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY ??= LOCAL_CREDENTIALS.secretAccessKey;
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const v = CONFIG_VARIABLES;
  if (!process.env[v.cluster] && !process.env[v.workgroup]) {
    process.env[v.cluster] = LOCAL_CLUSTER_IDENTIFIER;
  }
  process.env[v.table] ??= LOCAL_SESSIONS_TABLE_NAME;
  process.env[v.resultsBucket] ??= LOCAL_RESULTS_BUCKET_NAME;
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const port = options.port ?? readPort(process.env.SPECTRA_LOCAL_PORT);
  const faults = new FaultPlan();
  const endpoint = await startEndpoint({ port, faults });
  let s3: LocalS3 | undefined;
  let dynamo: DynamoDbThread | undefined;
  let stopEngine: (() => Promise<void>) | undefined;
  let threads: FunctionThreads | undefined;
  try {
    const threadCount = functionThreadsOf(options);
    configureEnvironment(endpoint.url);
    // The functions' own configuration, checked before anything starts (they read it again when
    // they load): the demo tenants' users and those the test controls create are named as the
    // functions name them.
    const config = loadConfig(process.env);

    dynamo = await startDynamoDbThread();
    endpoint.mount({
      targetPrefix: 'DynamoDB_20120810',
      contentType: 'application/x-amz-json-1.0',
      listener: dynamo.listener,
    });
    const dynamoClient = new DynamoDBClient({ endpoint: endpoint.url });
    await createSessionsTable(dynamoClient, config.sessionsTableName);
    dynamoClient.destroy();

    s3 = await startLocalS3({
      endpoint: endpoint.url,
      buckets: [config.resultsBucketName],
      retentionDays: config.resultRetentionDays,
    });
    endpoint.s3(s3);
    const localS3 = s3;

    const started = await startEngine(options);
    stopEngine = started.stop;
    const { engine } = started;
    const clock = options.clock ?? realClock;
    const emulator = await createRedshiftDataEmulator({
      engine,
      clock,
      maxSessions: options.maxDataApiSessions,
      maxResultBytes: options.maxDataApiResultBytes,
      loadDemoData: options.loadDemoData ?? true,
      dbUserTemplate: config.dbUserTemplate,
    });
    endpoint.mount(emulator);

    // The functions' modules read the machine's clock; on another clock the stack binds the
    // same core functions to deps of its own, in process (see LocalStackOptions.functionThreads).
    if (threadCount > 0) threads = await FunctionThreads.start(threadCount);
    const functionThreads = threads;
    const workflowHandlers = async (factory: HandlerFactory) =>
      functionThreads ? functionThreads.handlersOf(factory) : buildHandlers(factory);
    const handlers =
      options.clock !== undefined
        ? await handlersOnClock(config, options.clock)
        : await workflowHandlers(REAL_HANDLERS);
    const cancelStopped = await loadHandler('CancelStoppedExecution');
    let lambdaInFlight = 0;
    const hitRate = new SessionHitRate();
    const controls: ControlState = {
      faults,
      lambdaInFlight: () => lambdaInFlight,
      emulator: emulator.controls,
      dbUserOf: (tenantId) => tenantDbUser(tenantId, config),
      expireResults: (now) => localS3.expireResults(now),
    };

    const stepFunctions = new LocalStepFunctions({
      handlers,
      clock,
      waitTimeOverrides: options.waitTimeOverrides,
      retryIntervalOverrides: options.retryIntervalOverrides,
      onInvoke: async (call) => {
        const fault = await faults.enter(lambdaTarget(call.functionName));
        if (fault && !fault.afterInvoke)
          throw new LambdaInvocationError(fault.error, fault.message);
        lambdaInFlight++;
        let result: unknown;
        try {
          result = await call.invoke();
        } finally {
          lambdaInFlight--;
        }
        if (fault?.afterInvoke) throw new LambdaInvocationError(fault.error, fault.message);
        const hit = sessionHitOf(call.functionName, call.payload, result);
        if (hit !== undefined) hitRate.record(hit);
        return result;
      },
      // On AWS an EventBridge rule runs this function when an execution ends FAILED, ABORTED or
      // TIMED_OUT, and retries it when it fails (the target's retryAttempts); here with shorter
      // delays.
      onExecutionEnded: async (event) => {
        for (let attempt = 0; ; attempt++) {
          try {
            await invokeLocally('CancelStoppedExecution', cancelStopped, event);
            return;
          } catch (error) {
            if (attempt >= CLEANUP_RETRY_DELAYS_MS.length) throw error;
            await new Promise((resolve) => setTimeout(resolve, CLEANUP_RETRY_DELAYS_MS[attempt]));
          }
        }
      },
    });
    const stateMachineArn = stepFunctions.register(LOCAL_STATE_MACHINE_NAME, localDefinitionText());
    endpoint.mount(stepFunctions);
    endpoint.controlRoutes(controlRoutes(controls));
    const consoleApi = new ConsoleApi({
      endpoint: endpoint.url,
      stateMachineArn,
      sessionsTableName: config.sessionsTableName,
      hitRate,
    });
    endpoint.consoleRoutes(consoleRoutes(consoleApi));

    return {
      url: endpoint.url,
      port: endpoint.port,
      stateMachineArn,
      consoleUrl: consoleUrl(endpoint.url),
      engineKind: engine.kind,
      ownCluster: started.ownCluster,
      endpoint,
      stepFunctions,
      controls,
      s3: localS3,
      functionThreads: threadCount,
      workflowHandlers,
      async stop() {
        consoleApi.destroy();
        await endpoint.close();
        await functionThreads?.close();
        await localS3.close();
        await started.stop();
        await dynamo?.close();
      },
    };
  } catch (error) {
    await endpoint.close();
    await s3?.close();
    await dynamo?.close();
    await threads?.close();
    await stopEngine?.().catch(() => undefined);
    throw error;
  }
}
