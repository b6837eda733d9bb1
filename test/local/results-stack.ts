import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll } from 'vitest';
import { SpectraClient } from '../../client/index.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/identity.ts';
import type { LocalStack } from '../../local/stack.ts';
import { STATES, TASK_STATES } from '../../statemachine/definition.ts';

/**
 * The local stack the results tests run on (the functions, the Data API emulator on PGlite, S3),
 * with a small Data API result limit, a client of it, and what Step Functions recorded of an
 * execution: its history and the size of every state's input and output.
 */

export const HUNDRED_THOUSAND =
  'select g, md5(g::text) as hash from generate_series(1, 100000) g order by g';

export let stack: LocalStack;
export let client: SpectraClient;
export let sfn: SFNClient;

/** Starts the stack before the calling file's tests and stops it after them. */
export function useResultsStack(): void {
  beforeAll(async () => {
    const { startLocalStack } = await import('../../local/stack.ts');
    stack = await startLocalStack({
      port: 0,
      waitTimeOverrides: { [STATES.waitForQuery]: 0 },
      retryIntervalOverrides: Object.fromEntries(TASK_STATES.map((state) => [state, 0])),
      // A small Data API limit, so that a result over it is quick to make.
      maxDataApiResultBytes: 20 * 1024 * 1024,
    });
    process.env.SPECTRA_STATE_MACHINE_ARN = stack.stateMachineArn;
    client = new SpectraClient({ endpoint: stack.url, stateMachineArn: stack.stateMachineArn });
    sfn = new SFNClient({
      endpoint: stack.url,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
    });
  }, 180_000);

  afterAll(async () => {
    client?.destroy();
    sfn?.destroy();
    await stack?.stop();
  });
}

export async function history(executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(new GetExecutionHistoryCommand({ executionArn, nextToken }));
    events.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

/** Every state's input and output, and the execution's, in UTF-8 bytes. */
export async function payloadSizes(executionArn: string): Promise<number[]> {
  const events = await history(executionArn);
  const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
  const texts = [
    described.input,
    described.output,
    ...events.flatMap((event) => [
      event.stateEnteredEventDetails?.input,
      event.stateExitedEventDetails?.output,
      event.taskSucceededEventDetails?.output,
    ]),
  ];
  return texts
    .filter((text) => text !== undefined)
    .map((text) => Buffer.byteLength(text as string));
}
