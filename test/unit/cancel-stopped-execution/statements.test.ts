import { CancelStatementCommand, ExecuteStatementCommand } from '@aws-sdk/client-redshift-data';
import { GetExecutionHistoryCommand, SFNServiceException } from '@aws-sdk/client-sfn';
import { DeleteCommand, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { cancelStoppedExecution, handler } from '../../../functions/cancel-stopped-execution.ts';
import { clientTokenFor } from '../../../functions/common/data-api.ts';
import { lambdaContext } from '../../support/lambda-context.ts';
import { ddb, redshift, sfn } from '../../support/mocked-clients.ts';
import { runningState } from '../../support/query-state.ts';
import * as answers from '../../support/service-answers.ts';
import { EXECUTION_ARN } from '../../support/unit-deps.ts';
import * as fx from './fixtures.ts';

/**
 * CancelStoppedExecution finding the statement a stopped execution submitted (from the execution's
 * record, by the submission's ClientToken, or from the Submit Query in flight); a session a
 * submission opened before its record was written; and the event it takes and its failures.
 */

describe('Function: cancelStoppedExecution, the statement it finds and the sessions nobody recorded', () => {
  beforeEach(fx.stoppedWhilePollingOnLeasedSession);

  it("cancels the statement the execution's record names while Submit Query still waits for it", async () => {
    // Prepare: stopped inside Submit Query's long-poll; the session it opened is in the pool
    const { deps } = fx.cancelDeps();
    fx.historyIs(fx.stoppedWhileSubmitting);
    fx.recordSays(fx.submittedOnOpenedSession('st-9'));
    ddb
      .on(QueryCommand)
      .resolves({ Items: [fx.leasedRecord({ slot_claim: fx.RESERVATION.claim })] });
    fx.runsUntilCancelled('st-9', { SessionId: 'sess-1' });

    // Act
    const outcome = await cancelStoppedExecution(fx.stoppedExecution(), deps);

    // Assess: the session holds the slots, so only the session is given back
    expect(outcome).toEqual({ cancelledStatementId: 'st-9', ...fx.RELEASED });
    expect(redshift).toReceiveCommandWith(CancelStatementCommand, { Id: 'st-9' });
    expect(ddb).not.toReceiveCommandWith(DeleteCommand, {
      Key: { pool_id: '#slot#acme#tenant_acme', session_id: '3' },
    });
  });

  it("asks for the statement by the submission's ClientToken when the record names no statement yet", async () => {
    // Prepare: stopped between the record of the submission and the record of its statement
    const { deps } = fx.cancelDeps();
    fx.historyIs(fx.stoppedWhileSubmitting);
    fx.recordSays({
      tenant_id: 'acme',
      submit_run: 0,
      submit_attempt: 0,
      submit_session: 'sess-1',
    });
    redshift.on(ExecuteStatementCommand).resolves({ Id: 'st-5' });
    fx.runsUntilCancelled('st-5');

    // Act
    const outcome = await cancelStoppedExecution(fx.stoppedExecution(), deps);

    // Assess: the token's statement, or else a `select 1` that takes the token before the SQL can
    const asked = redshift.commandCalls(ExecuteStatementCommand)[0]?.args[0].input;
    expect(asked).toEqual(
      expect.objectContaining({
        Sql: 'select 1',
        ClientToken: clientTokenFor(EXECUTION_ARN, 0),
        DbUser: 'tenant_acme',
      }),
    );
    expect(asked).not.toHaveProperty('SessionId');
    expect(asked).not.toHaveProperty('SessionKeepAliveSeconds');
    expect(outcome.cancelledStatementId).toBe('st-5');
  });

  it('asks for the statement by the ClientToken of the Submit Query in flight when the record names no submission', async () => {
    // Prepare: stopped while Submit Query ran on the session Acquire leased (it records no
    // submission); the history has the task's input
    const { deps } = fx.cancelDeps();
    const submitting = { ...runningState(), submitAttempt: 1, statement: undefined };
    fx.historyIs([
      fx.event(8, 'ExecutionAborted'),
      fx.event(7, 'TaskStarted'),
      {
        id: 6,
        type: 'TaskScheduled',
        timestamp: new Date('2026-11-28T11:59:54.000Z'),
        taskScheduledEventDetails: {
          resourceType: 'lambda',
          resource: 'invoke',
          region: 'us-east-1',
          // As the definition hands it: the execution input beside the state.
          parameters: JSON.stringify({
            FunctionName: 'SubmitQuery',
            Payload: { request: { tenantId: 'acme', sql: 'select 1' }, state: submitting },
          }),
        },
      },
      fx.taskSucceeded(3, submitting),
      fx.executionStarted,
    ]);
    redshift.on(ExecuteStatementCommand).resolves({ Id: 'st-6' });
    fx.runsUntilCancelled('st-6');

    // Act
    const outcome = await cancelStoppedExecution(fx.stoppedExecution(), deps);

    // Assess
    expect(redshift).toReceiveCommandWith(ExecuteStatementCommand, {
      Sql: 'select 1',
      ClientToken: clientTokenFor(EXECUTION_ARN, 1),
    });
    expect(outcome).toEqual({ cancelledStatementId: 'st-6', ...fx.RELEASED });
  });

  it('writes the session a failed submission opened, and no record holds, to the pool, and gives it back there', async () => {
    // Prepare: Submit Query opened a session on its slots and failed before it wrote the session;
    // no step of a failed execution runs on
    const { deps } = fx.cancelDeps();
    fx.historyIs(fx.stoppedWhileSubmitting);
    ddb.on(GetCommand, { Key: fx.recordKey }).resolves({
      Item: {
        ...fx.recordKey,
        execution_arn: EXECUTION_ARN,
        ...fx.submittedOnOpenedSession('st-7'),
      },
    });
    ddb.on(QueryCommand).resolves({ Items: [] });
    answers.statementIs('FINISHED', { Id: 'st-7', SessionId: 'sess-1', UpdatedAt: fx.ENDED_AT });

    // Act
    const outcome = await cancelStoppedExecution(fx.stoppedExecution({ status: 'FAILED' }), deps);

    // Assess: written leased, on the slots, then released; the slots stay the session's
    expect(ddb).toReceiveCommandWith(PutCommand, {
      Item: expect.objectContaining({
        session_id: 'sess-1',
        lease_owner: EXECUTION_ARN,
        slot_claim: fx.RESERVATION.claim,
      }),
    });
    expect(outcome.sessionReleased).toBe(true);
    expect(ddb).not.toReceiveCommandWith(DeleteCommand, {
      Key: { pool_id: '#slot#acme#tenant_acme', session_id: '3' },
    });
  });

  it('leaves the session a stopped submission opened, and no record holds yet, to the step, which is still running', async () => {
    // Prepare: Submit Query opened a session on its slots and has not written it yet; the
    // statement may still run (CancelStatement did not take), so the clean-up could only drop it
    const { deps } = fx.cancelDeps();
    fx.historyIs(fx.stoppedWhileSubmitting);
    fx.recordSays(fx.submittedOnOpenedSession('st-7'));
    ddb.on(QueryCommand).resolves({ Items: [] });
    answers.statementIs('STARTED', { Id: 'st-7', SessionId: 'sess-1' });
    answers.cancelNotTaken();

    // Act
    const outcome = await cancelStoppedExecution(fx.stoppedExecution(), deps);

    // Assess: nothing written to the pool and its slots kept, so that the step's own write of the
    // session lands on slots that are still its own, and the step gives both back
    expect(ddb).not.toReceiveCommand(PutCommand);
    expect(ddb).not.toReceiveCommandWith(DeleteCommand, {
      Key: { pool_id: '#slot#acme#tenant_acme', session_id: '3' },
    });
    expect(ddb).not.toReceiveCommandWith(DeleteCommand, { Key: fx.poolKey });
    expect(outcome).toEqual(fx.UNTOUCHED);
  });

  it.each([
    ['gives back the slots of a session no step opened', {}, true],
    [
      'leaves the slots to the step that said it opens a session on them',
      { opening_claim: fx.RESERVATION.claim, opening_run: 0 },
      false,
    ],
  ])('%s', async (_, opening, givenBack) => {
    // Prepare: stopped with a reservation in the record and no session of the pool holding it
    const { deps } = fx.cancelDeps();
    fx.historyIs(fx.stoppedWhileSubmitting);
    fx.recordSays({
      tenant_id: 'acme',
      reservation: fx.RESERVATION,
      reservation_run: 0,
      ...opening,
    });
    ddb.on(QueryCommand).resolves({ Items: [] });

    // Act
    await cancelStoppedExecution(fx.stoppedExecution(), deps);

    // Assess
    const slotKeys = [
      { pool_id: '#slot#acme#tenant_acme', session_id: '3' },
      { pool_id: '#total-slot#cluster/analytics', session_id: '30' },
    ];
    for (const Key of slotKeys) {
      if (givenBack)
        expect(ddb).toReceiveCommandWith(DeleteCommand, {
          Key,
          ExpressionAttributeValues: { ':claim': fx.RESERVATION.claim },
        });
      else expect(ddb).not.toReceiveCommandWith(DeleteCommand, { Key });
    }
  });

  it('throws TransientServiceError when Step Functions keeps throttling', async () => {
    const { deps } = fx.cancelDeps();
    sfn.on(GetExecutionHistoryCommand).rejects(
      new SFNServiceException({
        name: 'ThrottlingException',
        $fault: 'client',
        message: 'Rate exceeded',
        $metadata: { httpStatusCode: 400 },
      }),
    );

    await expect(cancelStoppedExecution(fx.stoppedExecution(), deps)).rejects.toMatchObject({
      name: 'TransientServiceError',
    });
  });

  it('fails on an event that names no execution', async () => {
    await expect(handler({ detail: {} }, lambdaContext)).rejects.toThrow(
      /expects an EventBridge "Step Functions Execution Status Change" event/,
    );
  });

  it('takes only the EventBridge event, not a bare { executionArn, input }', async () => {
    await expect(
      handler({ executionArn: EXECUTION_ARN, input: fx.INPUT }, lambdaContext),
    ).rejects.toMatchObject({
      name: 'UnexpectedError',
      message: expect.stringMatching(
        /expects an EventBridge "Step Functions Execution Status Change" event/,
      ),
    });
    expect(ddb).not.toReceiveAnyCommand();
    expect(sfn).not.toReceiveAnyCommand();
  });
});
