import { randomUUID } from 'node:crypto';
import { GetExecutionHistoryCommand } from '@aws-sdk/client-sfn';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { StackApi } from '../../bench/chaos/stack-api.ts';
import type { LocalStack } from '../../local/stack.ts';
import { STATES } from '../../statemachine/definition.ts';
import { startStackWithApi } from '../support/local-stack.ts';
import { holdStatements } from '../support/pool-checks.ts';

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

/**
 * Waits until the named Task state has been entered and its invocation not yet returned. These
 * waits have no deadline of their own: the test's timeout is the only one, so a slow machine makes
 * a test slower, never failed.
 */
async function untilInFlight(executionArn: string, stateName: string): Promise<void> {
  for (;;) {
    const { events = [] } = await api.sfn.send(new GetExecutionHistoryCommand({ executionArn }));
    const entered = events.findLastIndex(
      (e) => e.type === 'TaskStateEntered' && e.stateEnteredEventDetails?.name === stateName,
    );
    if (entered >= 0 && events.slice(entered).some((e) => e.type === 'TaskStarted')) return;
    await sleep(10);
  }
}

const EXECUTE_STATEMENT = 'RedshiftData.ExecuteStatement';
const UPDATE_ITEM = 'DynamoDB_20120810.UpdateItem';

/**
 * Starts a query of `tenantId` whose next call of `target` is held, stops the execution while the
 * call waits, then lets the call go on and waits until every invocation has returned.
 */
async function stopWhileHeld(tenantId: string, target: string): Promise<string> {
  await api.control('holds', { target });
  const executionArn = await api.start(randomUUID(), { tenantId, sql: 'select 1' });
  while (((await api.counters()).held[target] ?? 0) < 1) await sleep(10);
  await api.stop(executionArn, 'test');
  await api.control('holds/release', { target });
  await untilQuiet();
  return executionArn;
}

/** Waits until every Lambda invocation has returned, stopped executions' included. */
async function untilQuiet(): Promise<void> {
  while ((await api.counters()).lambdaInFlight > 0) await sleep(25);
}

async function leasesOf(tenantId: string) {
  const records = await api.sessionRecords();
  return records.filter((r) => r.tenant_id === tenantId && r.state === 'LEASED');
}

describe('Reliability: StopExecution while a step runs', () => {
  it('leaves no lease when the stop comes while Submit Query opens a new session', async () => {
    // Prepare
    const tenantId = `stop-${randomUUID().slice(0, 8)}`;
    await api.control('db-users', { tenantId });

    // Act: Submit Query's ExecuteStatement, which opens the session, waits until the stop
    const executionArn = await stopWhileHeld(tenantId, EXECUTE_STATEMENT);

    // Assess
    expect((await api.describe(executionArn)).status).toBe('ABORTED');
    expect(await leasesOf(tenantId)).toEqual([]);
  });

  it('frees the lease when DynamoDB fails the cleanup beyond its SDK retries, by running it again', async () => {
    // Prepare: a query that polls (its statement held until the end), and reads of the pool that
    // fail six times in a row (the SDK tries four) once the execution is stopped
    const tenantId = `stop-${randomUUID().slice(0, 8)}`;
    await api.control('db-users', { tenantId });
    const { marker } = await holdStatements(api);
    const executionArn = await api.start(randomUUID(), { tenantId, sql: `select 1 -- ${marker}` });
    await untilInFlight(executionArn, STATES.poll);
    await api.control('faults', {
      target: 'DynamoDB_20120810.Query',
      error: 'ProvisionedThroughputExceededException',
      count: 6,
    });

    // Act
    await api.stop(executionArn, 'test');
    await untilQuiet();

    // Assess
    const counters = await api.counters();
    expect(
      counters.faultsInjected['DynamoDB_20120810.Query:ProvisionedThroughputExceededException'],
    ).toBe(6);
    expect(await leasesOf(tenantId)).toEqual([]);
  });

  it('leaves no lease when the stop comes while Acquire Session leases an idle session', async () => {
    // Prepare: one idle session in the pool
    const tenantId = `stop-${randomUUID().slice(0, 8)}`;
    await api.control('db-users', { tenantId });
    const first = await api.start(randomUUID(), { tenantId, sql: 'select 1' });
    expect((await api.waitForEnd(first, Number.POSITIVE_INFINITY)).status).toBe('SUCCEEDED');

    // Act: the lease write waits until the stop
    const executionArn = await stopWhileHeld(tenantId, UPDATE_ITEM);

    // Assess
    expect((await api.describe(executionArn)).status).toBe('ABORTED');
    expect(await leasesOf(tenantId)).toEqual([]);
    expect((await api.sessionRecords()).filter((r) => r.tenant_id === tenantId)).toEqual([
      expect.objectContaining({ state: 'IDLE' }),
    ]);
  });
});
