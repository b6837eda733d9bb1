import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { loadConfig, tenantDbUser } from '../functions/common/config.ts';
import { createInMemoryDynamoDb, createSessionsTable } from './dynamodb/sessions-table.ts';
import { type Endpoint, startEndpoint, TrafficControls } from './endpoint.ts';
import { createRedshiftDataEmulator } from './redshift-data/emulator.ts';
import { createPgliteEngine } from './redshift-data/pglite-engine.ts';
import { createPostgresEngine } from './redshift-data/postgres-engine.ts';
import type { SqlEngine } from './redshift-data/sql-engine.ts';
import {
  invokeLocally,
  type LambdaHandler,
  LambdaInvocationError,
  LOCAL_REGION,
  loadHandlers,
  localSubstitutions,
  substituteDefinition,
} from './stepfunctions/lambda-invoker.ts';
import { QUERY_DEFINITION_PATH } from './stepfunctions/local-execution.ts';
import { LocalStepFunctions } from './stepfunctions/service.ts';
import { type ControlState, controlRoutes, type LambdaFault } from './test-controls.ts';

/**
 * Spectra with no AWS account: one HTTP endpoint that answers the Redshift Data API (emulated on
 * PGlite or PostgreSQL), Step Functions (aws-local-stepfunctions running the real definition, each
 * Task calling the real handler in process) and DynamoDB (dynalite), with the sessions table and
 * the `spectra-query` state machine ready.
 */

export const DEFAULT_LOCAL_PORT = 4599;
/**
 * Delays before each retry of a failed CancelStoppedExecution: as many retries as the deployed
 * EventBridge target makes (retryAttempts 4), sooner than AWS's backoff.
 */
const CLEANUP_RETRY_DELAYS_MS = [250, 500, 1000, 2000];
export const STATE_MACHINE_NAME = 'spectra-query';
const repoRoot = resolve(fileURLToPath(new URL('..', import.meta.url)));

export interface LocalStackOptions {
  /** 0 picks a free port. Default: `SPECTRA_LOCAL_PORT` or 4599. */
  port?: number;
  /** A PostgreSQL URL; default `SPECTRA_LOCAL_DATABASE_URL`, else embedded PGlite. */
  databaseUrl?: string;
  /** Load the TICKIT demo schema and data (default true). */
  loadDemoData?: boolean;
  /** The Data API's cap on open sessions (default 500, as on AWS). */
  maxDataApiSessions?: number;
  /** Milliseconds per Wait state name. */
  waitTimeOverrides?: Record<string, number>;
}

export interface LocalStack {
  url: string;
  port: number;
  stateMachineArn: string;
  engineKind: SqlEngine['kind'];
  endpoint: Endpoint;
  stepFunctions: LocalStepFunctions;
  controls: ControlState;
  stop(): Promise<void>;
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
  ])
    delete process.env[name];
  process.env.AWS_REGION = LOCAL_REGION;
  process.env.AWS_ACCESS_KEY_ID ??= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  if (
    !process.env.SPECTRA_REDSHIFT_CLUSTER_IDENTIFIER &&
    !process.env.SPECTRA_REDSHIFT_WORKGROUP_NAME
  ) {
    process.env.SPECTRA_REDSHIFT_CLUSTER_IDENTIFIER = 'spectra-local';
  }
  process.env.SPECTRA_DYNAMODB_SESSIONS_TABLE_NAME ??= 'spectra-sessions';
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const port = options.port ?? readPort(process.env.SPECTRA_LOCAL_PORT);
  const traffic = new TrafficControls();
  const endpoint = await startEndpoint({ port, controls: traffic });
  try {
    configureEnvironment(endpoint.url);
    // The functions' own configuration, checked before anything starts (they read it again when
    // they load): the demo tenants' users and those the test controls create are named as the
    // functions name them.
    const config = loadConfig(process.env);

    const dynamo = createInMemoryDynamoDb();
    endpoint.mount({
      targetPrefix: 'DynamoDB_20120810',
      contentType: 'application/x-amz-json-1.0',
      listener: (req, res) => dynamo.emit('request', req, res),
    });
    const dynamoClient = new DynamoDBClient({ endpoint: endpoint.url });
    await createSessionsTable(
      dynamoClient,
      process.env.SPECTRA_DYNAMODB_SESSIONS_TABLE_NAME as string,
    );
    dynamoClient.destroy();

    const databaseUrl = options.databaseUrl ?? process.env.SPECTRA_LOCAL_DATABASE_URL;
    const engine = databaseUrl
      ? await createPostgresEngine(databaseUrl)
      : await createPgliteEngine();
    const emulator = await createRedshiftDataEmulator({
      engine,
      maxSessions: options.maxDataApiSessions,
      loadDemoData: options.loadDemoData ?? true,
      dbUserTemplate: config.dbUserTemplate,
    });
    endpoint.mount(emulator);

    const handlers = await loadHandlers();
    const cancelStopped = (await import(
      resolve(repoRoot, 'functions/cancel-stopped-execution.ts')
    )) as { handler: LambdaHandler };
    const controls: ControlState = {
      traffic,
      lambdaInvocations: new Map(),
      lambdaInFlight: 0,
      lambdaFaults: [],
      emulator,
      dbUserOf: (tenantId) => tenantDbUser(tenantId, config),
    };

    const stepFunctions = new LocalStepFunctions({
      handlers,
      waitTimeOverrides: options.waitTimeOverrides,
      onInvoke: async (call) => {
        controls.lambdaInvocations.set(
          call.functionName,
          (controls.lambdaInvocations.get(call.functionName) ?? 0) + 1,
        );
        const fault = takeLambdaFault(controls.lambdaFaults, call.functionName, traffic);
        if (fault && !fault.afterInvoke)
          throw new LambdaInvocationError(fault.error, fault.message);
        controls.lambdaInFlight++;
        let result: unknown;
        try {
          result = await call.invoke();
        } finally {
          controls.lambdaInFlight--;
        }
        if (fault?.afterInvoke) throw new LambdaInvocationError(fault.error, fault.message);
        return result;
      },
      // On AWS an EventBridge rule runs this function when an execution ends ABORTED or TIMED_OUT,
      // and retries it when it fails (the target's retryAttempts); here with shorter delays.
      onExecutionStopped: async (stopped) => {
        for (let attempt = 0; ; attempt++) {
          try {
            await invokeLocally('CancelStoppedExecution' as never, cancelStopped.handler, {
              executionArn: stopped.executionArn,
              input: stopped.input,
            });
            return;
          } catch (error) {
            if (attempt >= CLEANUP_RETRY_DELAYS_MS.length) throw error;
            await new Promise((resolve) => setTimeout(resolve, CLEANUP_RETRY_DELAYS_MS[attempt]));
          }
        }
      },
    });
    const definition = substituteDefinition(
      readFileSync(QUERY_DEFINITION_PATH, 'utf8'),
      localSubstitutions(),
    );
    const stateMachineArn = stepFunctions.register(STATE_MACHINE_NAME, definition);
    endpoint.mount(stepFunctions);
    endpoint.controlRoutes(controlRoutes(controls));

    return {
      url: endpoint.url,
      port: endpoint.port,
      stateMachineArn,
      engineKind: engine.kind,
      endpoint,
      stepFunctions,
      controls,
      async stop() {
        await endpoint.close();
        await engine.close();
        await new Promise<void>((done) => dynamo.close(() => done()));
      },
    };
  } catch (error) {
    await endpoint.close();
    throw error;
  }
}

function takeLambdaFault(
  faults: LambdaFault[],
  functionName: string,
  traffic: TrafficControls,
): LambdaFault | undefined {
  const fault = faults.find((f) => f.functionName === functionName && f.remaining > 0);
  if (fault) {
    fault.remaining--;
    // Counted with the other faults, under the target the test controls armed it with.
    const key = `Lambda.${functionName}:${fault.error}`;
    traffic.faultsInjected.set(key, (traffic.faultsInjected.get(key) ?? 0) + 1);
  }
  return fault;
}
