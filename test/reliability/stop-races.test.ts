import { randomUUID } from 'node:crypto';
import { GetExecutionHistoryCommand } from '@aws-sdk/client-sfn';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { StackApi } from '../../bench/chaos/stack-api.ts';
import type { LocalStack } from '../../local/stack.ts';
import { startStackWithApi } from '../support/local-stack.ts';

/**
 * StopExecution while a step is still running. Step Functions does not stop the Lambda, so the
 * step can lease a session after the execution's cleanup has run; the session must still end up
 * back in the pool (or dropped), never leased to an execution that no longer exists.
 */

process.env.SPECTRA_SUBMIT_WAIT_SECONDS = '1';
process.env.SPECTRA_POLL_WAIT_SECONDS = '1';

let stack: LocalStack;
let api: StackApi;

beforeAll(async () => {
  ({ stack, api } = await startStackWithApi());
}, 120_000);

afterEach(async () => {
  await api.control('reset');
});

afterAll(async () => {
  api?.destroy();
  await stack?.stop();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until the named Task state has been entered and its invocation not yet returned. */
async function untilInFlight(executionArn: string, stateName: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    const { events = [] } = await api.sfn.send(new GetExecutionHistoryCommand({ executionArn }));
    const entered = events.findLastIndex(
      (e) => e.type === 'TaskStateEntered' && e.stateEnteredEventDetails?.name === stateName,
    );
    if (entered >= 0 && events.slice(entered).some((e) => e.type === 'TaskStarted')) return;
    await sleep(10);
  }
  throw new Error(`${stateName} never started`);
}

/** Waits until every Lambda invocation has returned, stopped executions' included. */
async function untilQuiet(): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if ((await api.counters()).lambdaInFlight === 0) return;
    await sleep(25);
  }
  throw new Error('Lambda invocations still running');
}

async function leasesOf(tenantId: string) {
  const records = await api.sessionRecords();
  return records.filter((r) => r.tenant_id === tenantId && r.state === 'LEASED');
}

describe('Reliability: StopExecution while a step runs', () => {
  it('leaves no lease when the stop comes while Submit Query opens a new session', async () => {
    // Prepare: opening a session takes long enough to stop the execution inside Submit Query
    const tenantId = `stop-${randomUUID().slice(0, 8)}`;
    await api.control('db-users', { tenantId });
    await api.control('latency', { target: 'RedshiftData.OpenSession', ms: 700 });
    const executionArn = await api.start(randomUUID(), { tenantId, sql: 'select 1' });
    await untilInFlight(executionArn, 'Submit Query');

    // Act
    await api.stop(executionArn, 'test');
    await untilQuiet();

    // Assess
    expect((await api.describe(executionArn)).status).toBe('ABORTED');
    expect(await leasesOf(tenantId)).toEqual([]);
  });

  it('frees the lease when DynamoDB fails the cleanup beyond its SDK retries, by running it again', async () => {
    // Prepare: a query that polls, and DynamoDB writes that fail six times in a row (the SDK
    // tries four) once the execution is stopped
    const tenantId = `stop-${randomUUID().slice(0, 8)}`;
    await api.control('db-users', { tenantId });
    const executionArn = await api.start(randomUUID(), { tenantId, sql: 'select pg_sleep(2)' });
    await untilInFlight(executionArn, 'Poll Status');
    await api.control('faults', {
      target: 'DynamoDB_20120810.PutItem',
      error: 'ProvisionedThroughputExceededException',
      count: 6,
    });

    // Act
    await api.stop(executionArn, 'test');
    await untilQuiet();

    // Assess
    const counters = await api.counters();
    expect(
      counters.faultsInjected['DynamoDB_20120810.PutItem:ProvisionedThroughputExceededException'],
    ).toBe(6);
    expect(await leasesOf(tenantId)).toEqual([]);
  });

  it('leaves no lease when the stop comes while Acquire Session leases an idle session', async () => {
    // Prepare: one idle session in the pool, and a slow lease write
    const tenantId = `stop-${randomUUID().slice(0, 8)}`;
    await api.control('db-users', { tenantId });
    const first = await api.start(randomUUID(), { tenantId, sql: 'select 1' });
    expect((await api.waitForEnd(first, Date.now() + 30_000)).status).toBe('SUCCEEDED');
    await api.control('latency', { target: 'DynamoDB_20120810.UpdateItem', ms: 700 });
    const executionArn = await api.start(randomUUID(), { tenantId, sql: 'select 1' });
    await untilInFlight(executionArn, 'Acquire Session');

    // Act
    await api.stop(executionArn, 'test');
    await untilQuiet();

    // Assess
    expect((await api.describe(executionArn)).status).toBe('ABORTED');
    expect(await leasesOf(tenantId)).toEqual([]);
    expect((await api.sessionRecords()).filter((r) => r.tenant_id === tenantId)).toEqual([
      expect.objectContaining({ state: 'IDLE' }),
    ]);
  });
});
