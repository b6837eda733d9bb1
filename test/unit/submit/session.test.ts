import {
  CancelStatementCommand,
  DescribeStatementCommand,
  ExecuteStatementCommand,
} from '@aws-sdk/client-redshift-data';
import { DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import type { QueryState } from '../../../functions/common/workflow-state.ts';
import { submitQuery } from '../../../functions/submit.ts';
import { ddb, redshift } from '../../support/mocked-clients.ts';
import * as answers from '../../support/service-answers.ts';
import { EXECUTION_ARN, NOW, unitDeps } from '../../support/unit-deps.ts';
import * as fx from './fixtures.ts';

/**
 * The session Submit Query runs on. Opening a new one on the slots AcquireSession reserved: what it
 * sends, what it writes to the pool and to the execution's record, and when, and what it does once
 * the run was stopped. Running without one: at the Data API's session limit, on a reservation that
 * lapsed, or when AcquireSession found none open long enough.
 */

describe('Function: submitQuery, opening a session', () => {
  it('opens a new session on its reserved slots, records it leased to the execution, then long-polls', async () => {
    // Prepare
    const { deps, count } = unitDeps();
    fx.statementGoes(
      { SessionId: 'new-session', Status: 'SUBMITTED' },
      { SessionId: 'new-session', Status: 'FINISHED', HasResultSet: true },
    );

    // Act
    const next = await submitQuery(fx.state(), deps);

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
    for (const Key of fx.slotKeys)
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
    fx.statementGoes({ SessionId: 'new-session', Status: 'SUBMITTED' }, { Status: 'STARTED' });

    // Act
    await submitQuery(fx.state(), deps);

    // Assess: every write of the record is conditional on the run not being stopped
    const writes = ddb
      .commandCalls(UpdateCommand)
      .map((call) => call.args[0].input)
      .filter((input) => input.Key?.pool_id === fx.recordKey.pool_id);
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
          reservation: { ...fx.RESERVATION, reservedAt: '2026-11-28T11:56:00.000Z' },
        },
      },
      true,
    ],
  ] as const)(
    'renews its slots before opening only when needed: %s',
    async (_, before, fields, renews) => {
      // Prepare: the record holds the reservation AcquireSession of run 0 wrote
      const { deps } = unitDeps();
      ddb.on(UpdateCommand, { Key: fx.recordKey }).resolves({
        Attributes: { reservation: fx.RESERVATION, reservation_run: 0, ...before },
      });
      fx.statementGoes({ SessionId: 'new-session', Status: 'SUBMITTED' }, { Status: 'FINISHED' });

      // Act
      const next = await submitQuery(fx.state(fields as Partial<QueryState>), deps);

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
    fx.statementSubmitted({ SessionId: 'new-session', Status: 'SUBMITTED' });
    redshift.on(DescribeStatementCommand).callsFake(async () => {
      pollSent();
      return { Id: 'st-1', Status: 'FINISHED' };
    });
    ddb
      .on(UpdateCommand, { Key: fx.recordKey, ExpressionAttributeValues: { ':statement': 'st-1' } })
      .callsFake(async () => {
        await polled;
        return {};
      });

    // Act
    const next = await submitQuery(fx.state(), deps);

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
    ddb.on(UpdateCommand, { Key: fx.recordKey }).rejects(fx.conditionFailed());

    // Act
    const error = await submitQuery(fx.state(), deps).catch((thrown: Error) => thrown);

    // Assess
    expect(error).toMatchObject({ name: 'QueryAbortedError' });
    expect(redshift).not.toReceiveCommand(ExecuteStatementCommand);
    for (const Key of fx.slotKeys)
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
      fx.statementSubmitted({ SessionId: 'new-session', Status: 'SUBMITTED' });
      answers.statementRunsUntilCancelled();
      answers.sessionIs('new-session', sessionStatus, NOW);
      ddb.on(UpdateCommand, { Key: fx.recordKey }).resolvesOnce({}).rejects(fx.conditionFailed());

      // Act
      const error = await submitQuery(fx.state(), deps).catch((thrown: Error) => thrown);

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
});

describe('Function: submitQuery, running without a session', () => {
  it('runs the query without a session, and gives its slots back, when the Data API is at its session limit', async () => {
    // Prepare
    const { deps, count } = unitDeps();
    answers.sessionLimitReached({ Id: 'st-3', Status: 'SUBMITTED' });
    answers.statementIs('FINISHED', { Id: 'st-3' });

    // Act
    const next = await submitQuery(fx.state(), deps);

    // Assess
    const calls = redshift.commandCalls(ExecuteStatementCommand).map((call) => call.args[0].input);
    expect(calls).toHaveLength(2);
    expect(calls[1]).not.toHaveProperty('SessionKeepAliveSeconds');
    expect(calls[1]?.ClientToken).toBe(calls[0]?.ClientToken);
    expect(next.session).toEqual({ sessionId: null, reused: false, sessionless: true });
    expect(next.statement?.statementId).toBe('st-3');
    expect(count('SessionLimitReached')).toBe(1);
    expect(ddb).not.toReceiveCommand(PutCommand);
    for (const Key of fx.slotKeys) expect(ddb).toReceiveCommandWith(DeleteCommand, { Key });
  });

  it('runs the query without a session when its reservation is no longer held', async () => {
    // Prepare: the slots lapsed and another opener took one over
    const { deps } = unitDeps();
    ddb.on(UpdateCommand, { Key: fx.slotKeys[0] }).rejects(fx.conditionFailed());
    fx.statementGoes({ Status: 'SUBMITTED' }, { Status: 'FINISHED' });

    // Act
    const next = await submitQuery(fx.state(), deps);

    // Assess
    const input = redshift.commandCalls(ExecuteStatementCommand)[0]?.args[0].input;
    expect(input).not.toHaveProperty('SessionKeepAliveSeconds');
    expect(next.session).toEqual({ sessionId: null, reused: false, sessionless: true });
    expect(ddb).not.toReceiveCommand(PutCommand);
  });

  it('runs without a session when AcquireSession found only sessions closing before the deadline', async () => {
    const { deps } = unitDeps();
    fx.statementGoes({ Status: 'STARTED' });

    const next = await submitQuery(
      fx.state({ session: { sessionId: null, reused: false, sessionless: true } }),
      deps,
    );

    const input = redshift.commandCalls(ExecuteStatementCommand)[0]?.args[0].input;
    expect(input?.SessionKeepAliveSeconds).toBeUndefined();
    expect(input?.SessionId).toBeUndefined();
    expect(next.session).toEqual({ sessionId: null, reused: false, sessionless: true });
    expect(ddb).not.toReceiveCommand(PutCommand);
  });
});
