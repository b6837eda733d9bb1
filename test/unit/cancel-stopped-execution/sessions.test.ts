import {
  CancelStatementCommand,
  DescribeStatementCommand,
  ListSessionsCommand,
  ValidationException,
} from '@aws-sdk/client-redshift-data';
import { GetExecutionHistoryCommand } from '@aws-sdk/client-sfn';
import { DeleteCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  CANCEL_WAIT_SECONDS,
  cancelStoppedExecution,
} from '../../../functions/cancel-stopped-execution.ts';
import { ddb, redshift } from '../../support/mocked-clients.ts';
import { EXECUTION_ARN } from '../../support/unit-deps.ts';
import {
  abortedBeforeAnyStatement,
  cancelDeps,
  ENDED_AT,
  event,
  executionStarted,
  historyIs,
  INVALIDATED,
  leasedRecord,
  poolKey,
  RELEASED,
  resetMocks,
  runsUntilCancelled,
  sfn,
  stoppedExecution,
  stoppedWhilePolling,
  UNTOUCHED,
} from './fixtures.ts';

/**
 * CancelStoppedExecution giving back the session of a stopped or failed execution: the mark it
 * writes first, the statement it cancels, and whether the session goes back to the pool, is dropped
 * or is left alone.
 */

describe('Function: cancelStoppedExecution, the statement and the session', () => {
  beforeEach(resetMocks);

  it("marks the run stopped in the execution's record before it reads the pool, for its steps still running", async () => {
    // Prepare
    const { deps } = cancelDeps();
    redshift.on(DescribeStatementCommand).resolves({ Id: 'st-1', Status: 'FINISHED' });

    // Act
    await cancelStoppedExecution(stoppedExecution(), deps);

    // Assess
    const calls = ddb.calls().map((call) => call.args[0].input as { Key?: { pool_id: string } });
    const mark = calls.findIndex((input) => input.Key?.pool_id === `#execution#${EXECUTION_ARN}`);
    expect(mark).toBe(0);
    expect(ddb).toReceiveCommandWith(UpdateCommand, {
      Key: { pool_id: `#execution#${EXECUTION_ARN}`, session_id: 'execution' },
      ConditionExpression: 'attribute_not_exists(stopped_run) OR stopped_run < :run',
      ReturnValues: 'ALL_NEW',
    });
    expect(ddb.commandCalls(QueryCommand).length).toBeGreaterThan(0);
  });

  it('cancels the running statement and releases the session leased to the execution', async () => {
    // Prepare
    const { deps } = cancelDeps();
    runsUntilCancelled('st-1');

    // Act
    const outcome = await cancelStoppedExecution(stoppedExecution(), deps);

    // Assess
    expect(outcome).toEqual({ cancelledStatementId: 'st-1', ...RELEASED });
    expect(sfn).toReceiveCommandWith(GetExecutionHistoryCommand, {
      executionArn: EXECUTION_ARN,
      reverseOrder: true,
    });
    expect(redshift).toReceiveCommandWith(CancelStatementCommand, { Id: 'st-1' });
    expect(redshift).toReceiveCommandWith(DescribeStatementCommand, {
      Id: 'st-1',
      WaitTimeSeconds: CANCEL_WAIT_SECONDS,
    });
    expect(ddb).toReceiveCommandWith(QueryCommand, {
      ExpressionAttributeValues: { ':pool': 'acme#tenant_acme' },
      ConsistentRead: true,
    });
    expect(ddb).toReceiveCommandWith(UpdateCommand, {
      Key: { pool_id: 'acme#tenant_acme', session_id: 'sess-1' },
      ExpressionAttributeValues: expect.objectContaining({
        ':owner': EXECUTION_ARN,
        ':idle': 'IDLE',
        ':endedAt': ENDED_AT.toISOString(),
      }),
    });
    expect(ddb).not.toReceiveCommandWith(DeleteCommand, {
      Key: { pool_id: 'acme#tenant_acme', session_id: 'sess-1' },
    });
  });

  it.each(['TIMED_OUT', 'FAILED'])(
    'does not cancel a statement that had already ended, and releases the session (execution %s)',
    async (status) => {
      const { deps } = cancelDeps();
      redshift
        .on(DescribeStatementCommand)
        .resolves({ Id: 'st-1', Status: 'FINISHED', UpdatedAt: ENDED_AT });

      const outcome = await cancelStoppedExecution(stoppedExecution({ status }), deps);

      expect(outcome).toEqual(RELEASED);
      expect(redshift).not.toReceiveCommand(CancelStatementCommand);
      expect(ddb).toReceiveCommandWith(UpdateCommand, {
        ExpressionAttributeValues: expect.objectContaining({ ':endedAt': ENDED_AT.toISOString() }),
      });
    },
  );

  it('goes on when CancelStatement says the statement is not running', async () => {
    const { deps } = cancelDeps();
    redshift
      .on(DescribeStatementCommand)
      .resolvesOnce({ Id: 'st-1', Status: 'STARTED' })
      .resolves({ Id: 'st-1', Status: 'FINISHED', UpdatedAt: ENDED_AT });
    redshift.on(CancelStatementCommand).rejects(
      new ValidationException({
        message: 'Could not cancel a query that is already in FINISHED state',
        $metadata: {},
      }),
    );

    const outcome = await cancelStoppedExecution(stoppedExecution(), deps);

    expect(outcome).toEqual(RELEASED);
    expect(deps.telemetry.logger.info).toHaveBeenCalledWith(
      'CancelStatement refused: the statement is not running',
      expect.anything(),
    );
  });

  it('invalidates the session instead when the statement may still be running on it', async () => {
    const { deps, count } = cancelDeps();
    redshift
      .on(DescribeStatementCommand)
      .resolves({ Id: 'st-1', Status: 'STARTED', SessionId: 'sess-1' });
    redshift.on(CancelStatementCommand).resolves({ Status: false });

    const outcome = await cancelStoppedExecution(stoppedExecution(), deps);

    expect(outcome).toEqual(INVALIDATED);
    expect(ddb).toReceiveCommandWith(DeleteCommand, {
      Key: { pool_id: 'acme#tenant_acme', session_id: 'sess-1' },
      ExpressionAttributeValues: expect.objectContaining({ ':owner': EXECUTION_ARN }),
    });
    expect(ddb).not.toReceiveCommandWith(UpdateCommand, { Key: poolKey });
    expect(count('SessionInvalidated')).toBe(1);
  });

  it('leaves the statement of a failed execution to finish for a redrive, and drops its busy session', async () => {
    // Prepare: PollStatus failed through its retries while the statement ran
    const { deps } = cancelDeps();
    redshift
      .on(DescribeStatementCommand)
      .resolves({ Id: 'st-1', Status: 'STARTED', SessionId: 'sess-1' });

    // Act
    const outcome = await cancelStoppedExecution(stoppedExecution({ status: 'FAILED' }), deps);

    // Assess
    expect(outcome).toEqual(INVALIDATED);
    expect(redshift).not.toReceiveCommand(CancelStatementCommand);
    expect(ddb).toReceiveCommandWith(DeleteCommand, {
      Key: { pool_id: 'acme#tenant_acme', session_id: 'sess-1' },
    });
    // No step of a failed execution runs on, and a redrive's steps must keep their leases.
    expect(ddb).not.toReceiveCommand(PutCommand);
  });

  it('leaves a failed execution alone that ended in its Fail state: the failure path gave the session back', async () => {
    const { deps } = cancelDeps();
    sfn.on(GetExecutionHistoryCommand).resolves({
      events: [event(14, 'ExecutionFailed'), event(13, 'FailStateEntered'), ...stoppedWhilePolling],
    });

    const outcome = await cancelStoppedExecution(stoppedExecution({ status: 'FAILED' }), deps);

    expect(outcome).toEqual(UNTOUCHED);
    expect(ddb.calls()).toHaveLength(0);
    expect(redshift.calls()).toHaveLength(0);
  });

  it.each([
    ['releases the session when the Data API says it runs nothing', 'AVAILABLE', RELEASED],
    ['drops the session while the Data API says it is busy', 'BUSY', INVALIDATED],
  ] as const)(
    'stopped inside a step before any statement was known: %s',
    async (_, status, expected) => {
      const { deps } = cancelDeps();
      redshift
        .on(ListSessionsCommand)
        .resolves({ Sessions: [{ SessionId: 'sess-1', Status: status, CreatedAt: ENDED_AT }] });
      historyIs(
        abortedBeforeAnyStatement(
          event(8, 'ExecutionAborted'),
          event(7, 'TaskStarted'),
          event(6, 'TaskScheduled'),
        ),
      );

      const outcome = await cancelStoppedExecution(stoppedExecution(), deps);

      expect(outcome).toEqual(expected);
      expect(redshift).not.toReceiveCommand(CancelStatementCommand);
    },
  );

  it('releases the session when no step was running and no statement was submitted', async () => {
    const { deps } = cancelDeps();
    historyIs(abortedBeforeAnyStatement(event(5, 'ExecutionAborted'), event(4, 'TaskStateExited')));

    const outcome = await cancelStoppedExecution(stoppedExecution(), deps);

    expect(outcome).toEqual(RELEASED);
  });

  it('reads the tenant from the history when the event carries no input', async () => {
    const { deps } = cancelDeps();
    redshift.on(DescribeStatementCommand).resolves({ Id: 'st-1', Status: 'FINISHED' });
    sfn.on(GetExecutionHistoryCommand).resolves({
      events: [event(3, 'ExecutionAborted'), event(2, 'TaskStarted'), executionStarted],
    });

    const outcome = await cancelStoppedExecution(
      stoppedExecution({ input: null, inputDetails: { included: false } }),
      deps,
    );

    expect(outcome).toEqual(RELEASED);
    expect(ddb).toReceiveCommandWith(QueryCommand, {
      ExpressionAttributeValues: { ':pool': 'acme#tenant_acme' },
    });
  });

  it('is safe to run twice: the second run cancels nothing and releases nothing', async () => {
    const { deps } = cancelDeps();
    runsUntilCancelled('st-1');
    ddb
      .on(QueryCommand)
      .resolvesOnce({ Items: [leasedRecord()] })
      .resolves({ Items: [leasedRecord({ state: 'IDLE', lease_owner: undefined })] });

    const first = await cancelStoppedExecution(stoppedExecution(), deps);
    const second = await cancelStoppedExecution(stoppedExecution(), deps);

    expect(first).toEqual({ cancelledStatementId: 'st-1', ...RELEASED });
    expect(second).toEqual(UNTOUCHED);
    expect(redshift).toReceiveCommandTimes(CancelStatementCommand, 1);
    const releases = ddb
      .commandCalls(UpdateCommand)
      .filter((call) => call.args[0].input.Key?.pool_id === poolKey.pool_id);
    expect(releases).toHaveLength(1);
  });

  it('leaves a session leased to another execution alone', async () => {
    const { deps } = cancelDeps();
    redshift.on(DescribeStatementCommand).resolves({ Id: 'st-1', Status: 'FINISHED' });
    ddb.on(QueryCommand).resolves({
      Items: [leasedRecord({ lease_owner: `${EXECUTION_ARN}-other` })],
    });

    const outcome = await cancelStoppedExecution(stoppedExecution(), deps);

    expect(outcome).toEqual(UNTOUCHED);
    expect(ddb).not.toReceiveCommandWith(UpdateCommand, { Key: poolKey });
    expect(ddb).not.toReceiveCommandWith(DeleteCommand, {
      Key: expect.objectContaining({ pool_id: 'acme#tenant_acme' }),
    });
  });
});
