import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DescribeStatementCommand, RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { pollStatus } from '../../functions/poll-status.ts';
import { runningState } from '../support/query-state.ts';
import { EXECUTION_ARN, unitDeps } from '../support/unit-deps.ts';

const redshift = mockClient(RedshiftDataClient);
const ddb = mockClient(DynamoDBDocumentClient);

describe('Function: pollStatus', () => {
  beforeEach(() => {
    redshift.reset();
    ddb.reset();
    ddb.on(UpdateCommand).resolves({});
  });

  it('long-polls DescribeStatement and renews the lease', async () => {
    // Prepare
    const { deps } = unitDeps();
    redshift.on(DescribeStatementCommand).resolves({ Id: 'st-1', Status: 'STARTED' });

    // Act
    const next = await pollStatus(runningState(), deps, 60_000);

    // Assess
    expect(redshift).toReceiveCommandWith(DescribeStatementCommand, {
      Id: 'st-1',
      WaitTimeSeconds: 20,
    });
    expect(ddb).toReceiveCommandWith(UpdateCommand, {
      Key: { pool_id: 'acme#tenant_acme', session_id: 'sess-1' },
      ExpressionAttributeValues: expect.objectContaining({ ':owner': EXECUTION_ARN }),
    });
    expect(next.statement).toEqual(expect.objectContaining({ status: 'STARTED', polls: 1 }));
  });

  it('asks the Wait state to back off when the service answered at once', async () => {
    const { deps } = unitDeps();
    redshift.on(DescribeStatementCommand).resolves({ Id: 'st-1', Status: 'STARTED' });

    const next = await pollStatus(runningState({ polls: 2 }), deps, 60_000);

    expect(next.statement?.waitSeconds).toBe(8);
  });

  it('reports FINISHED with the end time, rows and result-set flag', async () => {
    const { deps } = unitDeps();
    const updatedAt = new Date('2026-11-28T12:00:03.000Z');
    redshift.on(DescribeStatementCommand).resolves({
      Id: 'st-1',
      Status: 'FINISHED',
      UpdatedAt: updatedAt,
      HasResultSet: true,
      ResultRows: 42,
    });

    const next = await pollStatus(runningState(), deps);

    expect(next.statement).toEqual(
      expect.objectContaining({
        status: 'FINISHED',
        waitSeconds: 0,
        finishedAt: updatedAt.toISOString(),
        hasResultSet: true,
        resultRows: 42,
      }),
    );
  });

  it("reports FAILED with the engine's error text instead of throwing", async () => {
    const { deps } = unitDeps();
    redshift
      .on(DescribeStatementCommand)
      .resolves({ Id: 'st-1', Status: 'FAILED', Error: 'ERROR: division by zero' });

    const next = await pollStatus(runningState(), deps);

    expect(next.statement).toEqual(
      expect.objectContaining({ status: 'FAILED', error: 'ERROR: division by zero' }),
    );
  });

  it('goes on when the lease is no longer held', async () => {
    const { deps } = unitDeps();
    redshift.on(DescribeStatementCommand).resolves({ Id: 'st-1', Status: 'STARTED' });
    ddb
      .on(UpdateCommand)
      .rejects(new ConditionalCheckFailedException({ message: 'failed', $metadata: {} }));

    await expect(pollStatus(runningState(), deps)).resolves.toEqual(
      expect.objectContaining({ statement: expect.objectContaining({ polls: 1 }) }),
    );
    expect(deps.telemetry.logger.warn).toHaveBeenCalled();
  });

  it('renews nothing for a query that runs without a session', async () => {
    const { deps } = unitDeps();
    redshift.on(DescribeStatementCommand).resolves({ Id: 'st-1', Status: 'STARTED' });

    await pollStatus(
      runningState({}, { session: { sessionId: null, reused: false, sessionless: true } }),
      deps,
    );

    expect(ddb.calls()).toHaveLength(0);
  });
});
