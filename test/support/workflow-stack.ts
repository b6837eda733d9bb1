import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, expect } from 'vitest';
import {
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  LOCAL_SESSIONS_TABLE_NAME,
} from '../../local/identity.ts';
import type { LocalStack } from '../../local/stack.ts';
import type { CountersResponse } from '../../local/test-controls.ts';
import { poolItemsOf } from './dynamodb.ts';
import { IMMEDIATE_RETRIES, startTestStack } from './local-stack.ts';

export interface Described {
  executionArn: string;
  status: string;
  output?: Record<string, unknown>;
  error?: string;
  cause?: Record<string, unknown>;
}

/** The names of the states an execution's history entered, in order. */
export const statesEntered = (events: HistoryEvent[]) =>
  events
    .filter((e) => e.type?.endsWith('StateEntered'))
    .map((e) => e.stateEnteredEventDetails?.name);

export const pause = () => new Promise((resolve) => setTimeout(resolve, 20));

/**
 * A local stack of the file's own, started before its tests and stopped after the last, driven
 * with the real SDK clients: executions started and waited for over the Step Functions API, the
 * pool read from DynamoDB, and the stack's test controls. `stack` and `sfn` are valid inside the
 * tests.
 */
export function useWorkflowStack() {
  // Short long-polls, so that a held query loops through PollStatus.
  process.env.SPECTRA_SUBMIT_WAIT_SECONDS = '1';
  process.env.SPECTRA_POLL_WAIT_SECONDS = '1';
  process.env.SPECTRA_DYNAMODB_SESSIONS_TABLE_NAME = LOCAL_SESSIONS_TABLE_NAME;

  let stack: LocalStack;
  let sfn: SFNClient;
  let ddb: DynamoDBDocumentClient;

  beforeAll(async () => {
    stack = await startTestStack({ retryIntervalOverrides: IMMEDIATE_RETRIES });
    const config = { endpoint: stack.url, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
    sfn = new SFNClient(config);
    ddb = DynamoDBDocumentClient.from(new DynamoDBClient(config));
  }, 120_000);

  afterAll(async () => {
    await stack?.stop();
  });

  async function waitForEnd(executionArn: string): Promise<Described> {
    for (let i = 0; i < 1200; i++) {
      const execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
      if (execution.status !== 'RUNNING') {
        return {
          executionArn,
          status: execution.status ?? '',
          output: execution.output ? JSON.parse(execution.output) : undefined,
          error: execution.error,
          cause: execution.cause ? JSON.parse(execution.cause) : undefined,
        };
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`${executionArn} did not end within 60 s`);
  }

  async function start(input: unknown, name: string = randomUUID()): Promise<string> {
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: stack.stateMachineArn,
        name,
        input: JSON.stringify(input),
      }),
    );
    return executionArn as string;
  }

  const run = async (input: unknown) => waitForEnd(await start(input));

  async function history(executionArn: string): Promise<HistoryEvent[]> {
    const { events } = await sfn.send(new GetExecutionHistoryCommand({ executionArn }));
    return events ?? [];
  }

  async function counters(): Promise<CountersResponse> {
    const response = await fetch(`${stack.url}/_spectra/counters`);
    return (await response.json()) as CountersResponse;
  }

  /** Waits until the counters show what `check` looks for. */
  async function untilCounters(check: (now: CountersResponse) => boolean): Promise<void> {
    while (!check(await counters())) await pause();
  }

  /**
   * Holds the Data API statements whose SQL contains `marker` until `release()`: a query then runs
   * exactly as long as the test needs, however fast or slow the machine is.
   */
  async function holdStatements(marker: string) {
    await control('statements/hold', { sqlContains: marker });
    return {
      /** Waits until `count` statements are held. */
      whenHeld: (count: number) => untilCounters((now) => now.redshiftData.statementsHeld >= count),
      release: () => control('statements/release', { sqlContains: marker }),
    };
  }

  async function control(path: string, body: unknown) {
    const response = await fetch(`${stack.url}/_spectra/${path}`, {
      method: 'POST',
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(200);
  }

  const pool = (tenantId: string) => poolItemsOf(ddb, LOCAL_SESSIONS_TABLE_NAME, tenantId);

  return {
    get stack() {
      return stack;
    },
    get sfn() {
      return sfn;
    },
    waitForEnd,
    start,
    run,
    history,
    counters,
    untilCounters,
    holdStatements,
    control,
    pool,
  };
}
