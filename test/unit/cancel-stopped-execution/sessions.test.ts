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
import { giveBackStopped, settleStatement } from '../../../functions/common/stopped-statement.ts';
import { ddb, redshift, sfn } from '../../support/mocked-clients.ts';
import * as answers from '../../support/service-answers.ts';
import { EXECUTION_ARN } from '../../support/unit-deps.ts';
import * as fx from './fixtures.ts';

/**
 * CancelStoppedExecution giving back the session of a stopped or failed execution: the mark it
 * writes first, the statement it cancels, and whether the session goes back to the pool, is dropped
 * or is left alone; and a statement that had committed when the stop came
 * (functions/common/stopped-statement.ts).
 */

describe('Function: cancelStoppedExecution, the statement and the session', () => {
  beforeEach(fx.stoppedWhilePollingOnLeasedSession);

  it("marks the run stopped in the execution's record before it reads the pool, for its steps still running", async () => {
    // Prepare
    const { deps } = fx.cancelDeps();
    answers.statementIs('FINISHED');

    // Act
    await cancelStoppedExecution(fx.stoppedExecution(), deps);

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
    const { deps } = fx.cancelDeps();
    fx.runsUntilCancelled('st-1');

    // Act
    const outcome = await cancelStoppedExecution(fx.stoppedExecution(), deps);

    // Assess
    expect(outcome).toEqual({ cancelledStatementId: 'st-1', ...fx.RELEASED });
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
        ':endedAt': fx.ENDED_AT.toISOString(),
      }),
    });
    expect(ddb).not.toReceiveCommandWith(DeleteCommand, {
      Key: { pool_id: 'acme#tenant_acme', session_id: 'sess-1' },
    });
  });

  it.each(['TIMED_OUT', 'FAILED'])(
    'does not cancel a statement that had already ended, and releases the session (execution %s)',
    async (status) => {
      const { deps } = fx.cancelDeps();
      answers.statementIs('FINISHED', { UpdatedAt: fx.ENDED_AT });

      const outcome = await cancelStoppedExecution(fx.stoppedExecution({ status }), deps);

      expect(outcome).toEqual(fx.RELEASED);
      expect(redshift).not.toReceiveCommand(CancelStatementCommand);
      expect(ddb).toReceiveCommandWith(UpdateCommand, {
        ExpressionAttributeValues: expect.objectContaining({
          ':endedAt': fx.ENDED_AT.toISOString(),
        }),
      });
    },
  );

  it('goes on when CancelStatement says the statement is not running', async () => {
    const { deps } = fx.cancelDeps();
    redshift
      .on(DescribeStatementCommand)
      .resolvesOnce({ Id: 'st-1', Status: 'STARTED' })
      .resolves({ Id: 'st-1', Status: 'FINISHED', UpdatedAt: fx.ENDED_AT });
    answers.cancelFindsStatementEnded();

    const outcome = await cancelStoppedExecution(fx.stoppedExecution(), deps);

    expect(outcome).toEqual(fx.RELEASED);
    expect(deps.telemetry.logger.info).toHaveBeenCalledWith(
      'CancelStatement refused: the statement is not running',
      expect.anything(),
    );
  });

  it('invalidates the session instead when the statement may still be running on it', async () => {
    const { deps, count } = fx.cancelDeps();
    answers.statementIs('STARTED', { SessionId: 'sess-1' });
    answers.cancelNotTaken();

    const outcome = await cancelStoppedExecution(fx.stoppedExecution(), deps);

    expect(outcome).toEqual(fx.INVALIDATED);
    expect(ddb).toReceiveCommandWith(DeleteCommand, {
      Key: { pool_id: 'acme#tenant_acme', session_id: 'sess-1' },
      ExpressionAttributeValues: expect.objectContaining({ ':owner': EXECUTION_ARN }),
    });
    expect(ddb).not.toReceiveCommandWith(UpdateCommand, { Key: fx.poolKey });
    expect(count('SessionInvalidated')).toBe(1);
  });

  it('leaves the statement of a failed execution to finish for a redrive, and drops its busy session', async () => {
    // Prepare: PollStatus failed through its retries while the statement ran
    const { deps } = fx.cancelDeps();
    answers.statementIs('STARTED', { SessionId: 'sess-1' });

    // Act
    const outcome = await cancelStoppedExecution(fx.stoppedExecution({ status: 'FAILED' }), deps);

    // Assess
    expect(outcome).toEqual(fx.INVALIDATED);
    expect(redshift).not.toReceiveCommand(CancelStatementCommand);
    expect(ddb).toReceiveCommandWith(DeleteCommand, {
      Key: { pool_id: 'acme#tenant_acme', session_id: 'sess-1' },
    });
    // No step of a failed execution runs on, and a redrive's steps must keep their leases.
    expect(ddb).not.toReceiveCommand(PutCommand);
  });

  it('leaves a failed execution alone that ended in its Fail state: the failure path gave the session back', async () => {
    const { deps } = fx.cancelDeps();
    fx.historyIs([
      fx.event(14, 'ExecutionFailed'),
      fx.event(13, 'FailStateEntered'),
      ...fx.stoppedWhilePolling,
    ]);

    const outcome = await cancelStoppedExecution(fx.stoppedExecution({ status: 'FAILED' }), deps);

    expect(outcome).toEqual(fx.UNTOUCHED);
    expect(ddb.calls()).toHaveLength(0);
    expect(redshift.calls()).toHaveLength(0);
  });

  it.each([
    ['releases the session when the Data API says it runs nothing', 'AVAILABLE', fx.RELEASED],
    ['drops the session while the Data API says it is busy', 'BUSY', fx.INVALIDATED],
  ] as const)(
    'stopped inside a step before any statement was known: %s',
    async (_, status, expected) => {
      const { deps } = fx.cancelDeps();
      redshift
        .on(ListSessionsCommand)
        .resolves({ Sessions: [{ SessionId: 'sess-1', Status: status, CreatedAt: fx.ENDED_AT }] });
      fx.historyIs(
        fx.abortedBeforeAnyStatement(
          fx.event(8, 'ExecutionAborted'),
          fx.event(7, 'TaskStarted'),
          fx.event(6, 'TaskScheduled'),
        ),
      );

      const outcome = await cancelStoppedExecution(fx.stoppedExecution(), deps);

      expect(outcome).toEqual(expected);
      expect(redshift).not.toReceiveCommand(CancelStatementCommand);
    },
  );

  it('releases the session when no step was running and no statement was submitted', async () => {
    const { deps } = fx.cancelDeps();
    fx.historyIs(
      fx.abortedBeforeAnyStatement(fx.event(5, 'ExecutionAborted'), fx.event(4, 'TaskStateExited')),
    );

    const outcome = await cancelStoppedExecution(fx.stoppedExecution(), deps);

    expect(outcome).toEqual(fx.RELEASED);
  });

  it('reads the tenant from the history when the event carries no input', async () => {
    const { deps } = fx.cancelDeps();
    answers.statementIs('FINISHED');
    fx.historyIs([
      fx.event(3, 'ExecutionAborted'),
      fx.event(2, 'TaskStarted'),
      fx.executionStarted,
    ]);

    const outcome = await cancelStoppedExecution(
      fx.stoppedExecution({ input: null, inputDetails: { included: false } }),
      deps,
    );

    expect(outcome).toEqual(fx.RELEASED);
    expect(ddb).toReceiveCommandWith(QueryCommand, {
      ExpressionAttributeValues: { ':pool': 'acme#tenant_acme' },
    });
  });

  it('is safe to run twice: the second run cancels nothing and releases nothing', async () => {
    const { deps } = fx.cancelDeps();
    fx.runsUntilCancelled('st-1');
    ddb
      .on(QueryCommand)
      .resolvesOnce({ Items: [fx.leasedRecord()] })
      .resolves({ Items: [fx.leasedRecord({ state: 'IDLE', lease_owner: undefined })] });

    const first = await cancelStoppedExecution(fx.stoppedExecution(), deps);
    const second = await cancelStoppedExecution(fx.stoppedExecution(), deps);

    expect(first).toEqual({ cancelledStatementId: 'st-1', ...fx.RELEASED });
    expect(second).toEqual(fx.UNTOUCHED);
    expect(redshift).toReceiveCommandTimes(CancelStatementCommand, 1);
    const releases = ddb
      .commandCalls(UpdateCommand)
      .filter((call) => call.args[0].input.Key?.pool_id === fx.poolKey.pool_id);
    expect(releases).toHaveLength(1);
  });

  it('leaves a session leased to another execution alone', async () => {
    const { deps } = fx.cancelDeps();
    answers.statementIs('FINISHED');
    ddb.on(QueryCommand).resolves({
      Items: [fx.leasedRecord({ lease_owner: `${EXECUTION_ARN}-other` })],
    });

    const outcome = await cancelStoppedExecution(fx.stoppedExecution(), deps);

    expect(outcome).toEqual(fx.UNTOUCHED);
    expect(ddb).not.toReceiveCommandWith(UpdateCommand, { Key: fx.poolKey });
    expect(ddb).not.toReceiveCommandWith(DeleteCommand, {
      Key: expect.objectContaining({ pool_id: 'acme#tenant_acme' }),
    });
  });

  describe('a statement that had committed', () => {
    // Whatever CancelStatement answers, the statement ends FINISHED, its result stands, and its
    // session goes back to the pool.

    /** Running when first asked; FINISHED only to a DescribeStatement that waits for its end. */
    function committedBeforeItsStatusSaysSo() {
      redshift
        .on(DescribeStatementCommand, { WaitTimeSeconds: undefined })
        .resolves({ Id: 'st-1', Status: 'STARTED', SessionId: 'sess-1' });
      redshift
        .on(DescribeStatementCommand, { WaitTimeSeconds: CANCEL_WAIT_SECONDS })
        .resolves({ Id: 'st-1', Status: 'FINISHED', SessionId: 'sess-1', UpdatedAt: fx.ENDED_AT });
    }

    const refusedWhileCommitting = () =>
      new ValidationException({
        message: 'Could not cancel a query that is already committing with ID: st-1',
        $metadata: { httpStatusCode: 400 },
      });

    it.each([
      [
        'refused with a ValidationException',
        () => redshift.on(CancelStatementCommand).rejects(refusedWhileCommitting()),
      ],
      ['answered Status false', answers.cancelNotTaken],
      ['answered Status true', answers.cancelSucceeds],
    ])(
      'ends FINISHED, not cancelled, when its cancel is %s, and its session is released',
      async (_, cancelAnswers) => {
        // Prepare
        const { deps } = fx.cancelDeps();
        committedBeforeItsStatusSaysSo();
        cancelAnswers();
        const leased = fx.leasedRecord();

        // Act
        const settled = await settleStatement(deps, 'st-1', true);
        const given = await giveBackStopped(deps, settled, false, {
          tenantId: leased.tenant_id,
          dbUser: leased.db_user,
          owner: EXECUTION_ARN,
          sessions: [{ session_id: leased.session_id, created_at: leased.created_at }],
        });

        // Assess
        expect(settled).toEqual({
          kind: 'ended',
          cancelled: false,
          endedAt: fx.ENDED_AT.toISOString(),
          sessionId: 'sess-1',
          described: expect.objectContaining({ Status: 'FINISHED' }),
        });
        expect(given.released).toEqual([leased.session_id]);
        expect(ddb).not.toReceiveCommandWith(DeleteCommand, { Key: fx.poolKey });
      },
    );
  });
});
