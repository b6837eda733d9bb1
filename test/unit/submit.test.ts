import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  ActiveSessionsExceededException,
  CancelStatementCommand,
  DescribeStatementCommand,
  ExecuteStatementCommand,
  ExecuteStatementException,
  ListSessionsCommand,
  QueryTimeoutException,
  ValidationException,
} from '@aws-sdk/client-redshift-data';
import { DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import type { QueryState } from '../../functions/common/workflow-state.ts';
import { handler, submitQuery } from '../../functions/submit.ts';
import { lambdaContext, refusedState } from '../support/lambda-context.ts';
import { ddb, redshift, resetClients } from '../support/mocked-clients.ts';
import { queryOf, submitEvent } from '../support/query-state.ts';
import { EXECUTION_ARN, NOW, secondsAfterNow, unitDeps } from '../support/unit-deps.ts';

/** The slots AcquireSession reserved for the session this submission opens. */
const RESERVATION = {
  claim: 'claim-1',
  slot: 1,
  totalSlot: 17,
  reservedAt: '2026-11-28T11:59:59.000Z',
};
const slotKeys = [
  { pool_id: '#slot#acme#acme', session_id: '1' },
  { pool_id: '#total-slot#cluster/analytics', session_id: '17' },
];
const recordKey = { pool_id: `#execution#${EXECUTION_ARN}`, session_id: 'execution' };
const conditionFailed = () =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

const REQUEST = {
  tenantId: 'acme',
  sql: 'select :region',
  parameters: [{ name: 'region', value: 'eu' }],
};

/**
 * Submit Query's event for the default request, on the tenant `acme` whose user is `acme`, with
 * the slots of a new session reserved.
 */
const state = (fields: Partial<QueryState> = {}) =>
  submitEvent(REQUEST, {
    query: queryOf({ dbUser: 'acme' }),
    session: { sessionId: null, reused: false, reservation: RESERVATION },
    ...fields,
  });
const reusing = (sessionId = '11111111-2222-3333-4444-555555555555') =>
  state({ session: { sessionId, reused: true, createdAt: '2026-11-28T11:00:00.000Z' } });

describe('Function: submitQuery', () => {
  // The tenant's pool holds no session on this submission's slots.
  beforeEach(() => resetClients());

  /** ExecuteStatement answers at once with `submitted`; the long-poll after it finds `polled`. */
  function statementGoes(submitted: Record<string, unknown>, polled = submitted) {
    redshift.on(ExecuteStatementCommand).resolves({ Id: 'st-1', ...submitted });
    redshift.on(DescribeStatementCommand).resolves({ Id: 'st-1', ...polled });
  }

  it('opens a new session on its reserved slots, records it leased to the execution, then long-polls', async () => {
    // Prepare
    const { deps, count } = unitDeps();
    statementGoes(
      { SessionId: 'new-session', Status: 'SUBMITTED' },
      { SessionId: 'new-session', Status: 'FINISHED', HasResultSet: true },
    );

    // Act
    const next = await submitQuery(state(), deps);

    // Assess
    const execute = redshift.commandCalls(ExecuteStatementCommand)[0]?.args[0].input;
    expect(execute).toEqual({
      Sql: 'select :region',
      Parameters: [{ name: 'region', value: 'eu' }],
      ClusterIdentifier: 'analytics',
      Database: 'dev',
      DbUser: 'acme',
      SessionKeepAliveSeconds: 3600,
      ClientToken: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    for (const Key of slotKeys)
      expect(ddb).toReceiveCommandWith(UpdateCommand, {
        Key,
        ConditionExpression: 'claim = :claim',
      });
    expect(ddb).toReceiveCommandWith(PutCommand, {
      Item: expect.objectContaining({
        session_id: 'new-session',
        state: 'LEASED',
        lease_owner: EXECUTION_ARN,
        slot: 1,
        total_slot: 17,
        slot_claim: 'claim-1',
      }),
    });
    expect(redshift).toReceiveCommandWith(DescribeStatementCommand, {
      Id: 'st-1',
      WaitTimeSeconds: 5,
    });
    expect(next.session).toEqual(
      expect.objectContaining({ sessionId: 'new-session', reused: false }),
    );
    expect(next.statement).toEqual(
      expect.objectContaining({
        statementId: 'st-1',
        status: 'FINISHED',
        waitSeconds: 0,
        hasResultSet: true,
      }),
    );
    expect(count('SessionCreated')).toBe(1);
  });

  it("writes the submission to the execution's record before it sends it, and then the statement", async () => {
    // Prepare
    const { deps } = unitDeps();
    statementGoes({ SessionId: 'new-session', Status: 'SUBMITTED' }, { Status: 'STARTED' });

    // Act
    await submitQuery(state(), deps);

    // Assess: every write of the record is conditional on the run not being stopped
    const writes = ddb
      .commandCalls(UpdateCommand)
      .map((call) => call.args[0].input)
      .filter((input) => input.Key?.pool_id === recordKey.pool_id);
    expect(writes.map((input) => input.ConditionExpression)).toEqual([
      'attribute_not_exists(stopped_run) OR stopped_run < :run',
      'attribute_not_exists(stopped_run) OR stopped_run < :run',
    ]);
    expect(writes[0]?.ExpressionAttributeValues).toEqual(
      expect.objectContaining({ ':attempt': 0, ':session': 'none', ':claim': 'claim-1' }),
    );
    expect(writes[1]?.ExpressionAttributeValues).toEqual(
      expect.objectContaining({ ':statement': 'st-1' }),
    );
  });

  it.each([
    ['its first submission on the reservation of its own run', {}, {}, false],
    ['a retried submission', { submit_run: 0, submit_attempt: 0 }, {}, true],
    ['a redriven run', {}, { run: 1 }, true],
    [
      'a reservation close to its end',
      {},
      {
        session: {
          sessionId: null,
          reused: false,
          reservation: { ...RESERVATION, reservedAt: '2026-11-28T11:56:00.000Z' },
        },
      },
      true,
    ],
  ] as const)(
    'renews its slots before opening only when needed: %s',
    async (_, before, fields, renews) => {
      // Prepare: the record holds the reservation AcquireSession of run 0 wrote
      const { deps } = unitDeps();
      ddb.on(UpdateCommand, { Key: recordKey }).resolves({
        Attributes: { reservation: RESERVATION, reservation_run: 0, ...before },
      });
      statementGoes({ SessionId: 'new-session', Status: 'SUBMITTED' }, { Status: 'FINISHED' });

      // Act
      const next = await submitQuery(state(fields as Partial<QueryState>), deps);

      // Assess
      const renewals = ddb
        .commandCalls(UpdateCommand)
        .filter((call) => call.args[0].input.ConditionExpression === 'claim = :claim');
      expect(renewals).toHaveLength(renews ? 2 : 0);
      expect(next.session).toEqual(expect.objectContaining({ sessionId: 'new-session' }));
    },
  );

  it('records its new session, then the statement, while the long-poll begins', async () => {
    // Prepare: the statement's record answers only once the long-poll has been sent
    const { deps } = unitDeps();
    let pollSent = () => {};
    const polled = new Promise<void>((resolve) => {
      pollSent = resolve;
    });
    redshift
      .on(ExecuteStatementCommand)
      .resolves({ Id: 'st-1', SessionId: 'new-session', Status: 'SUBMITTED' });
    redshift.on(DescribeStatementCommand).callsFake(async () => {
      pollSent();
      return { Id: 'st-1', Status: 'FINISHED' };
    });
    ddb
      .on(UpdateCommand, { Key: recordKey, ExpressionAttributeValues: { ':statement': 'st-1' } })
      .callsFake(async () => {
        await polled;
        return {};
      });

    // Act
    const next = await submitQuery(state(), deps);

    // Assess: the session is in the pool before the statement's record can find a stop, so that a
    // stop's clean-up either sees the session or leaves it to this step
    expect(next.statement).toEqual(expect.objectContaining({ status: 'FINISHED' }));
    expect(ddb).toReceiveCommandWith(PutCommand, {
      Item: expect.objectContaining({ session_id: 'new-session', lease_owner: EXECUTION_ARN }),
    });
    const writes = ddb.calls().map((call) => call.args[0].input as Record<string, unknown>);
    const sessionWrite = writes.findIndex(
      (input) => (input.Item as { session_id?: string } | undefined)?.session_id === 'new-session',
    );
    const statementWrite = writes.findIndex(
      (input) =>
        (input.ExpressionAttributeValues as Record<string, unknown> | undefined)?.[':statement'] ===
        'st-1',
    );
    expect(sessionWrite).toBeGreaterThanOrEqual(0);
    expect(statementWrite).toBeGreaterThan(sessionWrite);
  });

  it('submits nothing and gives its slots back when the run was stopped before the submission', async () => {
    // Prepare: the clean-up of the stopped execution marked the record first
    const { deps } = unitDeps();
    ddb.on(UpdateCommand, { Key: recordKey }).rejects(conditionFailed());

    // Act
    const error = await submitQuery(state(), deps).catch((thrown: Error) => thrown);

    // Assess
    expect(error).toMatchObject({ name: 'QueryAbortedError' });
    expect(redshift).not.toReceiveCommand(ExecuteStatementCommand);
    for (const Key of slotKeys)
      expect(ddb).toReceiveCommandWith(DeleteCommand, {
        Key,
        ExpressionAttributeValues: { ':claim': 'claim-1' },
      });
  });

  it.each([
    [
      'releases it once its cancelled statement has ended',
      'AVAILABLE',
      UpdateCommand,
      DeleteCommand,
    ],
    ['drops it while the Data API says it is busy', 'BUSY', DeleteCommand, UpdateCommand],
  ] as const)(
    'cancels the statement when the run was stopped between ExecuteStatement and its record, and %s',
    async (_, sessionStatus, expected, unexpected) => {
      // Prepare: the record's write of the statement finds the stop
      const { deps } = unitDeps(
        {},
        () => NOW,
        async () => undefined,
      );
      redshift
        .on(ExecuteStatementCommand)
        .resolves({ Id: 'st-1', SessionId: 'new-session', Status: 'SUBMITTED' });
      // The statement runs until it is cancelled, however often it is described.
      redshift.on(DescribeStatementCommand).callsFake(() => ({
        Id: 'st-1',
        Status: redshift.commandCalls(CancelStatementCommand).length > 0 ? 'ABORTED' : 'STARTED',
      }));
      redshift.on(CancelStatementCommand).resolves({ Status: true });
      redshift.on(ListSessionsCommand).resolves({
        Sessions: [{ SessionId: 'new-session', Status: sessionStatus, CreatedAt: NOW }],
      });
      ddb.on(UpdateCommand, { Key: recordKey }).resolvesOnce({}).rejects(conditionFailed());

      // Act
      const error = await submitQuery(state(), deps).catch((thrown: Error) => thrown);

      // Assess
      expect(error).toMatchObject({ name: 'QueryAbortedError' });
      expect(redshift).toReceiveCommandWith(CancelStatementCommand, { Id: 'st-1' });
      expect(ddb).toReceiveCommandWith(expected, {
        Key: { pool_id: 'acme#acme', session_id: 'new-session' },
        ConditionExpression: expect.stringContaining('lease_owner = :owner'),
      });
      expect(ddb).not.toReceiveCommandWith(unexpected, {
        Key: { pool_id: 'acme#acme', session_id: 'new-session' },
      });
    },
  );

  it('authenticates with the secret instead of DbUser when one is configured, on a workgroup', async () => {
    const secret = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:rs-AbCdEf';
    const { deps } = unitDeps({
      SPECTRA_REDSHIFT_CLUSTER_IDENTIFIER: '',
      SPECTRA_REDSHIFT_WORKGROUP_NAME: 'wg-1',
      SPECTRA_REDSHIFT_SECRET_ARN: secret,
    });
    statementGoes({ SessionId: 's', Status: 'SUBMITTED' });

    await submitQuery(state(), deps);

    const input = redshift.commandCalls(ExecuteStatementCommand)[0]?.args[0].input;
    expect(input).toEqual(expect.objectContaining({ WorkgroupName: 'wg-1', SecretArn: secret }));
    expect(input).not.toHaveProperty('DbUser');
    expect(input).not.toHaveProperty('ClusterIdentifier');
  });

  it('sends no DbUser to a Serverless workgroup without a secret: its user comes from the IAM role', async () => {
    const { deps } = unitDeps({
      SPECTRA_REDSHIFT_CLUSTER_IDENTIFIER: '',
      SPECTRA_REDSHIFT_WORKGROUP_NAME: 'wg-1',
    });
    statementGoes({ SessionId: 's', Status: 'SUBMITTED' });

    await submitQuery(state(), deps);

    const input = redshift.commandCalls(ExecuteStatementCommand)[0]?.args[0].input;
    expect(input).toEqual(expect.objectContaining({ WorkgroupName: 'wg-1', Database: 'dev' }));
    expect(input).not.toHaveProperty('DbUser');
    expect(input).not.toHaveProperty('SecretArn');
  });

  it('reuses a leased session with only Sql and SessionId, never the connection fields', async () => {
    const { deps, count } = unitDeps();
    statementGoes({ SessionId: '11111111-2222-3333-4444-555555555555', Status: 'STARTED' });

    const next = await submitQuery(reusing(), deps);

    const input = redshift.commandCalls(ExecuteStatementCommand)[0]?.args[0].input ?? {};
    expect(Object.keys(input).sort()).toEqual(['ClientToken', 'Parameters', 'SessionId', 'Sql']);
    // The statement is the one write to the execution's record: nothing else is taken here.
    const recordWrites = ddb
      .commandCalls(UpdateCommand)
      .filter((call) => call.args[0].input.Key?.pool_id === recordKey.pool_id);
    expect(recordWrites.map((call) => call.args[0].input.ExpressionAttributeValues)).toEqual([
      expect.objectContaining({ ':statement': 'st-1' }),
    ]);
    expect(ddb).not.toReceiveCommand(PutCommand);
    expect(ddb).not.toReceiveCommand(DeleteCommand);
    expect(count('SessionCreated')).toBe(0);
    expect(next.session.reused).toBe(true);
    expect(next.statement?.status).toBe('STARTED');
  });

  it('derives the ClientToken from the execution, its run and the submit attempt', async () => {
    const { deps } = unitDeps();
    statementGoes({ SessionId: 's', Status: 'FINISHED' });

    await submitQuery(state(), deps);
    await submitQuery(state(), deps);
    await submitQuery(state({ submitAttempt: 1 }), deps);
    await submitQuery(state({ run: 1 }), deps);

    const tokens = redshift
      .commandCalls(ExecuteStatementCommand)
      .map((call) => call.args[0].input.ClientToken);
    expect(tokens[1]).toBe(tokens[0]);
    expect(new Set(tokens).size).toBe(3);
  });

  it.each([
    ['Session is not available', 'not available (closed, expired or busy)'],
    ['Session with Id: 11111111-2222-3333-4444-555555555555 is invalid', 'an invalid session id'],
  ])('throws StaleSessionError when the Data API answers "%s"', async (message, reason) => {
    const { deps } = unitDeps();
    redshift
      .on(ExecuteStatementCommand)
      .rejects(new ValidationException({ message, $metadata: {} }));

    await expect(submitQuery(reusing(), deps)).rejects.toThrow(
      expect.objectContaining({
        name: 'StaleSessionError',
        message: expect.stringContaining(`: ${reason}`),
      }),
    );
  });

  it("fails a refusal its checks did not foresee as QueryFailedError, without the service's text", async () => {
    // Prepare: a refusal whose text quotes a parameter value
    const { deps } = unitDeps();
    redshift.on(ExecuteStatementCommand).rejects(
      new ValidationException({
        message: "Value 'SSN-078-05-1120' at 'parameters.1.member.value' failed",
        $metadata: { httpStatusCode: 400 },
      }),
    );

    // Act
    const error = await submitQuery(state(), deps).catch((thrown: Error) => thrown);

    // Assess
    expect(error).toMatchObject({
      name: 'QueryFailedError',
      message:
        "Redshift Data ExecuteStatement refused the statement as invalid: ValidationException (HTTP 400); the service's message is not repeated, as it can quote the SQL or its parameters",
    });
    expect(String((error as Error).stack)).not.toContain('SSN-078-05-1120');
  });

  it.each([
    ['ActiveStatementsExceededException', 'TransientServiceError'],
    ['QueryTimeoutException', 'QueryTimeoutError'],
  ])('names the Data API refusing with %s %s, the contract name', async (refusal, name) => {
    const { deps } = unitDeps();
    const error =
      refusal === 'QueryTimeoutException'
        ? new QueryTimeoutException({ message: 'timed out', $metadata: { httpStatusCode: 400 } })
        : Object.assign(new Error('too many'), {
            name: refusal,
            $fault: 'client',
            $metadata: { httpStatusCode: 400 },
          });
    redshift.on(ExecuteStatementCommand).rejects(error);

    await expect(submitQuery(state(), deps)).rejects.toThrow(expect.objectContaining({ name }));
  });

  it("words a transient failure by the error's name and status, without the service's text", async () => {
    const { deps } = unitDeps();
    redshift.on(ExecuteStatementCommand).rejects(
      new ExecuteStatementException({
        message: 'ERROR: invalid input syntax for type integer: "SSN-078-05-1120"',
        Message: 'ERROR: invalid input syntax for type integer: "SSN-078-05-1120"',
        StatementId: 'x',
        $metadata: { httpStatusCode: 500 },
      }),
    );

    await expect(submitQuery(state(), deps)).rejects.toThrow(
      expect.objectContaining({
        name: 'TransientServiceError',
        message:
          'Redshift Data ExecuteStatement failed after retries: ExecuteStatementException (HTTP 500)',
      }),
    );
  });

  it('keeps its slots when ExecuteStatement fails transiently: the retry may get the session that call opened', async () => {
    const { deps } = unitDeps();
    redshift
      .on(ExecuteStatementCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));

    await expect(submitQuery(state(), deps)).rejects.toThrow(
      expect.objectContaining({ name: 'TransientServiceError' }),
    );
    expect(ddb).not.toReceiveCommand(DeleteCommand);
  });

  it('runs the query without a session, and gives its slots back, when the Data API is at its session limit', async () => {
    // Prepare
    const { deps, count } = unitDeps();
    redshift.on(ExecuteStatementCommand).callsFake((input) => {
      if (input.SessionKeepAliveSeconds) {
        throw new ActiveSessionsExceededException({ message: 'Too many sessions', $metadata: {} });
      }
      return { Id: 'st-3', Status: 'SUBMITTED' };
    });
    redshift.on(DescribeStatementCommand).resolves({ Id: 'st-3', Status: 'FINISHED' });

    // Act
    const next = await submitQuery(state(), deps);

    // Assess
    const calls = redshift.commandCalls(ExecuteStatementCommand).map((call) => call.args[0].input);
    expect(calls).toHaveLength(2);
    expect(calls[1]).not.toHaveProperty('SessionKeepAliveSeconds');
    expect(calls[1]?.ClientToken).toBe(calls[0]?.ClientToken);
    expect(next.session).toEqual({ sessionId: null, reused: false, sessionless: true });
    expect(next.statement?.statementId).toBe('st-3');
    expect(count('SessionLimitReached')).toBe(1);
    expect(ddb).not.toReceiveCommand(PutCommand);
    for (const Key of slotKeys) expect(ddb).toReceiveCommandWith(DeleteCommand, { Key });
  });

  it('runs the query without a session when its reservation is no longer held', async () => {
    // Prepare: the slots lapsed and another opener took one over
    const { deps } = unitDeps();
    ddb.on(UpdateCommand, { Key: slotKeys[0] }).rejects(conditionFailed());
    statementGoes({ Status: 'SUBMITTED' }, { Status: 'FINISHED' });

    // Act
    const next = await submitQuery(state(), deps);

    // Assess
    const input = redshift.commandCalls(ExecuteStatementCommand)[0]?.args[0].input;
    expect(input).not.toHaveProperty('SessionKeepAliveSeconds');
    expect(next.session).toEqual({ sessionId: null, reused: false, sessionless: true });
    expect(ddb).not.toReceiveCommand(PutCommand);
  });

  it('runs without a session when AcquireSession found only sessions closing before the deadline', async () => {
    const { deps } = unitDeps();
    statementGoes({ Status: 'STARTED' });

    const next = await submitQuery(
      state({ session: { sessionId: null, reused: false, sessionless: true } }),
      deps,
    );

    const input = redshift.commandCalls(ExecuteStatementCommand)[0]?.args[0].input;
    expect(input?.SessionKeepAliveSeconds).toBeUndefined();
    expect(input?.SessionId).toBeUndefined();
    expect(next.session).toEqual({ sessionId: null, reused: false, sessionless: true });
    expect(ddb).not.toReceiveCommand(PutCommand);
  });

  it('reads the error text when the statement failed inside the long-poll', async () => {
    const { deps } = unitDeps();
    statementGoes(
      { SessionId: 's', Status: 'SUBMITTED' },
      { Status: 'FAILED', Error: 'ERROR: syntax error at or near "selec"' },
    );

    const next = await submitQuery(state(), deps);

    expect(next.statement).toEqual(
      expect.objectContaining({
        status: 'FAILED',
        error: 'ERROR: syntax error at or near "selec"',
      }),
    );
  });

  it('bounds the long-poll by the time the Lambda has left', async () => {
    const { deps } = unitDeps();
    statementGoes({ SessionId: 's', Status: 'SUBMITTED' }, { Status: 'STARTED' });

    await submitQuery(state(), deps, { remainingMs: 10_500 });

    expect(redshift).toReceiveCommandWith(DescribeStatementCommand, { WaitTimeSeconds: 2 });
  });

  describe('its timeout', () => {
    /** A query whose deadline is two seconds after the clock's start. */
    const dueInTwoSeconds = () =>
      state({
        query: queryOf({
          dbUser: 'acme',
          timeoutSeconds: 2,
          deadline: secondsAfterNow(2).toISOString(),
        }),
      });

    /**
     * A clock at the start until the long-poll, which takes the two seconds left: the statement
     * answers `polled` then.
     */
    function longPollReachesTheDeadline(polled: Record<string, unknown>) {
      let now = NOW;
      redshift
        .on(ExecuteStatementCommand)
        .resolves({ Id: 'st-5', SessionId: 'new-session', Status: 'SUBMITTED' });
      redshift.on(DescribeStatementCommand, { WaitTimeSeconds: 2 }).callsFake(() => {
        now = secondsAfterNow(2);
        return { Id: 'st-5', ...polled };
      });
      return unitDeps({}, () => now);
    }

    it('long-polls no further than the deadline, then cancels the statement still running and says so', async () => {
      // Prepare
      const { deps } = longPollReachesTheDeadline({ Status: 'STARTED' });
      redshift.on(CancelStatementCommand).resolves({ Status: true });
      redshift
        .on(DescribeStatementCommand, { WaitTimeSeconds: 5 })
        .resolves({ Id: 'st-5', Status: 'ABORTED' });

      // Act
      const next = await submitQuery(dueInTwoSeconds(), deps);

      // Assess
      expect(redshift).toReceiveCommandWith(DescribeStatementCommand, {
        Id: 'st-5',
        WaitTimeSeconds: 2,
      });
      expect(redshift).toReceiveCommandWith(CancelStatementCommand, { Id: 'st-5' });
      expect(redshift).toReceiveCommandWith(DescribeStatementCommand, {
        Id: 'st-5',
        WaitTimeSeconds: 5,
      });
      expect(next.statement).toEqual(
        expect.objectContaining({ status: 'ABORTED', cancelledFor: 'timeout', waitSeconds: 0 }),
      );
    });

    it('keeps the result of a statement that finished as the deadline came', async () => {
      const { deps } = longPollReachesTheDeadline({ Status: 'STARTED' });
      redshift.on(CancelStatementCommand).rejects(
        new ValidationException({
          message: 'Could not cancel a query that is already in FINISHED state with ID: st-5',
          $metadata: { httpStatusCode: 400 },
        }),
      );
      redshift
        .on(DescribeStatementCommand, { WaitTimeSeconds: 5 })
        .resolves({ Id: 'st-5', Status: 'FINISHED', HasResultSet: true });

      const next = await submitQuery(dueInTwoSeconds(), deps);

      expect(next.statement).toEqual(
        expect.objectContaining({ status: 'FINISHED', hasResultSet: true }),
      );
      expect(next.statement?.cancelledFor).toBeUndefined();
    });

    it('throws QueryTimeoutError and sends nothing when the deadline has passed already', async () => {
      const { deps } = unitDeps({}, () => secondsAfterNow(3));

      await expect(submitQuery(dueInTwoSeconds(), deps)).rejects.toThrow(
        expect.objectContaining({
          name: 'QueryTimeoutError',
          message: expect.stringContaining('timeoutSeconds 2'),
        }),
      );
      expect(redshift.calls()).toHaveLength(0);
    });
  });

  it('reads the SQL from the execution input and keeps it out of the state it returns', async () => {
    const { deps } = unitDeps();
    statementGoes({ SessionId: 's', Status: 'FINISHED' });

    const next = await submitQuery(state(), deps);

    expect(redshift).toReceiveCommandWith(ExecuteStatementCommand, { Sql: 'select :region' });
    expect(JSON.stringify(next)).not.toContain('select :region');
    expect(JSON.stringify(next)).not.toContain('"eu"');
  });

  it('refuses, through its handler, a state it cannot read, naming the step and the field', async () => {
    await expect(
      handler({ request: { tenantId: 'acme', sql: 'select 1' } }, lambdaContext),
    ).rejects.toMatchObject(refusedState('SubmitQuery', 'state'));
    expect(redshift.calls()).toHaveLength(0);
    expect(ddb.calls()).toHaveLength(0);
  });
});
