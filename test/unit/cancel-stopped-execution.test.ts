import {
  CancelStatementCommand,
  DescribeStatementCommand,
  ExecuteStatementCommand,
  ListSessionsCommand,
  ValidationException,
} from '@aws-sdk/client-redshift-data';
import {
  GetExecutionHistoryCommand,
  type HistoryEvent,
  SFNClient,
  SFNServiceException,
} from '@aws-sdk/client-sfn';
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  CANCEL_WAIT_SECONDS,
  type CancelStoppedExecutionDeps,
  cancelStoppedExecution,
  handler,
  parseStoppedExecution,
} from '../../functions/cancel-stopped-execution.ts';
import { clientTokenFor } from '../../functions/common/data-api.ts';
import type { SessionRecord } from '../../functions/common/session-record.ts';
import { lambdaContext } from '../support/lambda-context.ts';
import { ddb, pooledSession, redshift, resetClients } from '../support/mocked-clients.ts';
import { runningState } from '../support/query-state.ts';
import { EXECUTION_ARN, unitDeps } from '../support/unit-deps.ts';

const sfn = mockClient(SFNClient);

const INPUT = JSON.stringify({ tenantId: 'acme', sql: 'select * from sales' });
const ENDED_AT = new Date('2026-11-28T11:59:58.000Z');

/** The EventBridge event for an execution stopped with StopExecution. */
function abortedEvent(detail: Record<string, unknown> = {}) {
  return {
    version: '0',
    id: 'c4a8f3b2-0000-4000-8000-000000000000',
    'detail-type': 'Step Functions Execution Status Change',
    source: 'aws.states',
    account: '000000000000',
    time: '2026-11-28T12:00:00Z',
    region: 'us-east-1',
    resources: [EXECUTION_ARN],
    detail: {
      executionArn: EXECUTION_ARN,
      stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:spectra-query',
      name: 'run-1',
      status: 'ABORTED',
      input: INPUT,
      inputDetails: { included: true },
      output: null,
      ...detail,
    },
  };
}

/** What the handler reads from {@link abortedEvent}: the core's input. */
const stoppedExecution = (detail: Record<string, unknown> = {}) =>
  parseStoppedExecution(abortedEvent(detail));

/** A lambda:invoke TaskSucceeded event as AWS records it: the whole invocation result as text. */
function taskSucceeded(id: number, payload: unknown): HistoryEvent {
  return {
    id,
    type: 'TaskSucceeded',
    timestamp: new Date('2026-11-28T11:59:50.000Z'),
    taskSucceededEventDetails: {
      resourceType: 'lambda',
      resource: 'invoke',
      output: JSON.stringify({ ExecutedVersion: '$LATEST', Payload: payload, StatusCode: 200 }),
    },
  };
}

const event = (id: number, type: HistoryEvent['type']): HistoryEvent => ({
  id,
  type,
  timestamp: new Date('2026-11-28T11:59:55.000Z'),
});

const executionStarted: HistoryEvent = {
  id: 1,
  type: 'ExecutionStarted',
  timestamp: new Date('2026-11-28T11:59:40.000Z'),
  executionStartedEventDetails: { input: INPUT },
};

/** Newest first, as GetExecutionHistory returns with reverseOrder: stopped during PollStatus. */
const stoppedWhilePolling: HistoryEvent[] = [
  event(12, 'ExecutionAborted'),
  event(11, 'TaskStarted'),
  event(10, 'TaskScheduled'),
  event(9, 'TaskStateEntered'),
  taskSucceeded(7, runningState()),
  event(6, 'TaskStarted'),
  event(5, 'TaskScheduled'),
  taskSucceeded(3, { ...runningState(), statement: undefined }),
  executionStarted,
];

/** The pool's session `sess-1`, leased to the stopped execution. */
const leasedRecord = (fields: Partial<SessionRecord> = {}): SessionRecord =>
  pooledSession({
    state: 'LEASED',
    lease_owner: EXECUTION_ARN,
    lease_expires_at: '2026-11-28T12:04:00.000Z',
    ...fields,
  });

/** What the clean-up did with the session the execution held, as its outcome says. */
const RELEASED = { sessionReleased: true, sessionInvalidated: false };
const INVALIDATED = { sessionReleased: false, sessionInvalidated: true };
const UNTOUCHED = { sessionReleased: false, sessionInvalidated: false };

const poolKey = { pool_id: 'acme#tenant_acme', session_id: 'sess-1' };
const recordKey = { pool_id: `#execution#${EXECUTION_ARN}`, session_id: 'execution' };
const RESERVATION = {
  claim: 'claim-3',
  slot: 3,
  totalSlot: 30,
  reservedAt: '2026-11-28T11:59:41.000Z',
};

/** The execution's record as the clean-up's mark returns it: what the steps wrote before the stop. */
function recordSays(fields: Record<string, unknown>) {
  ddb.on(UpdateCommand, { Key: recordKey }).resolves({
    Attributes: { ...recordKey, execution_arn: EXECUTION_ARN, stopped_run: 0, ...fields },
  });
}

/**
 * What Submit Query recorded when it opened a session on the reserved slots and sent `statementId`
 * on it, before it could write the session to the pool.
 */
const submittedOnOpenedSession = (statementId: string) => ({
  tenant_id: 'acme',
  submit_run: 0,
  submit_attempt: 0,
  submit_session: 'none',
  statement_id: statementId,
  statement_run: 0,
  statement_attempt: 0,
  reservation: RESERVATION,
  reservation_run: 0,
  opening_claim: RESERVATION.claim,
  opening_run: 0,
});

/** Stopped inside Submit Query, before it returned: the history names no statement. */
const stoppedWhileSubmitting: HistoryEvent[] = [
  event(8, 'ExecutionAborted'),
  event(7, 'TaskStarted'),
  event(6, 'TaskScheduled'),
  taskSucceeded(3, {
    ...runningState(),
    session: { sessionId: null, reused: false, reservation: RESERVATION },
    statement: undefined,
  }),
  executionStarted,
];

/**
 * The statement `statementId` runs when the clean-up first asks; CancelStatement stops it, and it
 * has ended ABORTED when asked again.
 */
function runsUntilCancelled(statementId: string, running: Record<string, unknown> = {}) {
  redshift
    .on(DescribeStatementCommand)
    .resolvesOnce({ Id: statementId, Status: 'STARTED', ...running })
    .resolves({ Id: statementId, Status: 'ABORTED', UpdatedAt: ENDED_AT });
  redshift.on(CancelStatementCommand).resolves({ Status: true });
}

function cancelDeps() {
  const { deps, count } = unitDeps({}, undefined, async () => undefined);
  const cancel: CancelStoppedExecutionDeps = { ...deps, sfn: new SFNClient({}) };
  return { deps: cancel, count };
}

describe('Function: cancelStoppedExecution', () => {
  beforeEach(() => {
    sfn.reset();
    sfn.on(GetExecutionHistoryCommand).resolves({ events: stoppedWhilePolling });
    resetClients([leasedRecord()]);
    // The Data API says the session runs nothing once its statement has ended.
    redshift
      .on(ListSessionsCommand)
      .resolves({ Sessions: [{ SessionId: 'sess-1', Status: 'AVAILABLE', CreatedAt: ENDED_AT }] });
  });

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
      sfn.on(GetExecutionHistoryCommand).resolves({
        events: [
          event(8, 'ExecutionAborted'),
          event(7, 'TaskStarted'),
          event(6, 'TaskScheduled'),
          taskSucceeded(3, { ...runningState(), statement: undefined }),
          executionStarted,
        ],
      });

      const outcome = await cancelStoppedExecution(stoppedExecution(), deps);

      expect(outcome).toEqual(expected);
      expect(redshift).not.toReceiveCommand(CancelStatementCommand);
    },
  );

  it('releases the session when no step was running and no statement was submitted', async () => {
    const { deps } = cancelDeps();
    sfn.on(GetExecutionHistoryCommand).resolves({
      events: [
        event(5, 'ExecutionAborted'),
        event(4, 'TaskStateExited'),
        taskSucceeded(3, { ...runningState(), statement: undefined }),
        executionStarted,
      ],
    });

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

  it("cancels the statement the execution's record names while Submit Query still waits for it", async () => {
    // Prepare: stopped inside Submit Query's long-poll; the session it opened is in the pool
    const { deps } = cancelDeps();
    sfn.on(GetExecutionHistoryCommand).resolves({ events: stoppedWhileSubmitting });
    recordSays(submittedOnOpenedSession('st-9'));
    ddb.on(QueryCommand).resolves({ Items: [leasedRecord({ slot_claim: RESERVATION.claim })] });
    runsUntilCancelled('st-9', { SessionId: 'sess-1' });

    // Act
    const outcome = await cancelStoppedExecution(stoppedExecution(), deps);

    // Assess: the session holds the slots, so only the session is given back
    expect(outcome).toEqual({ cancelledStatementId: 'st-9', ...RELEASED });
    expect(redshift).toReceiveCommandWith(CancelStatementCommand, { Id: 'st-9' });
    expect(ddb).not.toReceiveCommandWith(DeleteCommand, {
      Key: { pool_id: '#slot#acme#tenant_acme', session_id: '3' },
    });
  });

  it("asks for the statement by the submission's ClientToken when the record names no statement yet", async () => {
    // Prepare: stopped between the record of the submission and the record of its statement
    const { deps } = cancelDeps();
    sfn.on(GetExecutionHistoryCommand).resolves({ events: stoppedWhileSubmitting });
    recordSays({ tenant_id: 'acme', submit_run: 0, submit_attempt: 0, submit_session: 'sess-1' });
    redshift.on(ExecuteStatementCommand).resolves({ Id: 'st-5' });
    runsUntilCancelled('st-5');

    // Act
    const outcome = await cancelStoppedExecution(stoppedExecution(), deps);

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
    const { deps } = cancelDeps();
    const submitting = { ...runningState(), submitAttempt: 1, statement: undefined };
    sfn.on(GetExecutionHistoryCommand).resolves({
      events: [
        event(8, 'ExecutionAborted'),
        event(7, 'TaskStarted'),
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
        taskSucceeded(3, submitting),
        executionStarted,
      ],
    });
    redshift.on(ExecuteStatementCommand).resolves({ Id: 'st-6' });
    runsUntilCancelled('st-6');

    // Act
    const outcome = await cancelStoppedExecution(stoppedExecution(), deps);

    // Assess
    expect(redshift).toReceiveCommandWith(ExecuteStatementCommand, {
      Sql: 'select 1',
      ClientToken: clientTokenFor(EXECUTION_ARN, 1),
    });
    expect(outcome).toEqual({ cancelledStatementId: 'st-6', ...RELEASED });
  });

  it('writes the session a failed submission opened, and no record holds, to the pool, and gives it back there', async () => {
    // Prepare: Submit Query opened a session on its slots and failed before it wrote the session;
    // no step of a failed execution runs on
    const { deps } = cancelDeps();
    sfn.on(GetExecutionHistoryCommand).resolves({ events: stoppedWhileSubmitting });
    ddb.on(GetCommand, { Key: recordKey }).resolves({
      Item: { ...recordKey, execution_arn: EXECUTION_ARN, ...submittedOnOpenedSession('st-7') },
    });
    ddb.on(QueryCommand).resolves({ Items: [] });
    redshift
      .on(DescribeStatementCommand)
      .resolves({ Id: 'st-7', Status: 'FINISHED', SessionId: 'sess-1', UpdatedAt: ENDED_AT });

    // Act
    const outcome = await cancelStoppedExecution(stoppedExecution({ status: 'FAILED' }), deps);

    // Assess: written leased, on the slots, then released; the slots stay the session's
    expect(ddb).toReceiveCommandWith(PutCommand, {
      Item: expect.objectContaining({
        session_id: 'sess-1',
        lease_owner: EXECUTION_ARN,
        slot_claim: RESERVATION.claim,
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
    const { deps } = cancelDeps();
    sfn.on(GetExecutionHistoryCommand).resolves({ events: stoppedWhileSubmitting });
    recordSays(submittedOnOpenedSession('st-7'));
    ddb.on(QueryCommand).resolves({ Items: [] });
    redshift
      .on(DescribeStatementCommand)
      .resolves({ Id: 'st-7', Status: 'STARTED', SessionId: 'sess-1' });
    redshift.on(CancelStatementCommand).resolves({ Status: false });

    // Act
    const outcome = await cancelStoppedExecution(stoppedExecution(), deps);

    // Assess: nothing written to the pool and its slots kept, so that the step's own write of the
    // session lands on slots that are still its own, and the step gives both back
    expect(ddb).not.toReceiveCommand(PutCommand);
    expect(ddb).not.toReceiveCommandWith(DeleteCommand, {
      Key: { pool_id: '#slot#acme#tenant_acme', session_id: '3' },
    });
    expect(ddb).not.toReceiveCommandWith(DeleteCommand, { Key: poolKey });
    expect(outcome).toEqual(UNTOUCHED);
  });

  it.each([
    ['gives back the slots of a session no step opened', {}, true],
    [
      'leaves the slots to the step that said it opens a session on them',
      { opening_claim: RESERVATION.claim, opening_run: 0 },
      false,
    ],
  ])('%s', async (_, opening, givenBack) => {
    // Prepare: stopped with a reservation in the record and no session of the pool holding it
    const { deps } = cancelDeps();
    sfn.on(GetExecutionHistoryCommand).resolves({ events: stoppedWhileSubmitting });
    recordSays({ tenant_id: 'acme', reservation: RESERVATION, reservation_run: 0, ...opening });
    ddb.on(QueryCommand).resolves({ Items: [] });

    // Act
    await cancelStoppedExecution(stoppedExecution(), deps);

    // Assess
    const slotKeys = [
      { pool_id: '#slot#acme#tenant_acme', session_id: '3' },
      { pool_id: '#total-slot#cluster/analytics', session_id: '30' },
    ];
    for (const Key of slotKeys) {
      if (givenBack)
        expect(ddb).toReceiveCommandWith(DeleteCommand, {
          Key,
          ExpressionAttributeValues: { ':claim': RESERVATION.claim },
        });
      else expect(ddb).not.toReceiveCommandWith(DeleteCommand, { Key });
    }
  });

  it('throws TransientServiceError when Step Functions keeps throttling', async () => {
    const { deps } = cancelDeps();
    sfn.on(GetExecutionHistoryCommand).rejects(
      new SFNServiceException({
        name: 'ThrottlingException',
        $fault: 'client',
        message: 'Rate exceeded',
        $metadata: { httpStatusCode: 400 },
      }),
    );

    await expect(cancelStoppedExecution(stoppedExecution(), deps)).rejects.toMatchObject({
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
      handler({ executionArn: EXECUTION_ARN, input: INPUT }, lambdaContext),
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
