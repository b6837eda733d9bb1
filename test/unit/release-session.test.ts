import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { handler, releaseSession } from '../../functions/release-session.ts';
import { lambdaContext, refusedState } from '../support/lambda-context.ts';
import { runningState } from '../support/query-state.ts';
import { deletedItem, EXECUTION_ARN, unitDeps } from '../support/unit-deps.ts';

const ddb = mockClient(DynamoDBDocumentClient);

describe('Function: releaseSession', () => {
  beforeEach(() => {
    ddb.reset();
    ddb.on(UpdateCommand).resolves({});
    ddb.on(DeleteCommand).callsFake(deletedItem);
  });

  const strayLease = {
    pool_id: 'acme#tenant_acme',
    session_id: 'stray',
    tenant_id: 'acme',
    db_user: 'tenant_acme',
    created_at: '2026-11-28T11:59:00.000Z',
    last_used_at: '2026-11-28T11:59:00.000Z',
    expires_at: '2026-11-28T12:59:00.000Z',
    ttl: 0,
    state: 'LEASED',
    lease_owner: EXECUTION_ARN,
    lease_expires_at: '2026-11-28T12:04:00.000Z',
  };

  it("returns the session to the pool after success, from the statement's end", async () => {
    // Prepare
    const { deps } = unitDeps();
    const state = runningState({ status: 'FINISHED', finishedAt: '2026-11-28T11:59:58.000Z' });

    // Act
    const outcome = await releaseSession(
      { outcome: 'SUCCEEDED', executionArn: EXECUTION_ARN, state },
      deps,
    );

    // Assess
    expect(outcome).toEqual({ released: true });
    expect(ddb).toReceiveCommandWith(UpdateCommand, {
      Key: { pool_id: 'acme#tenant_acme', session_id: 'sess-1' },
      ExpressionAttributeValues: expect.objectContaining({
        ':owner': EXECUTION_ARN,
        ':endedAt': '2026-11-28T11:59:58.000Z',
      }),
    });
  });

  it("releases and describes a SQL failure as QueryFailedError with Redshift's text in the Cause", async () => {
    const { deps } = unitDeps();
    const state = runningState({
      status: 'FAILED',
      error: 'ERROR: permission denied for relation sales',
    });

    const outcome = await releaseSession(
      { outcome: 'FAILED', executionArn: EXECUTION_ARN, state },
      deps,
    );

    expect(outcome.released).toBe(true);
    expect(outcome.failure?.error).toBe('QueryFailedError');
    expect(JSON.parse(outcome.failure?.cause ?? '')).toEqual({
      message: 'The statement failed',
      tenantId: 'acme',
      statementId: 'st-1',
      redshiftError: 'ERROR: permission denied for relation sales',
    });
  });

  it('names a statement that failed for its result size ResultTooLargeError, pointing to UNLOAD', async () => {
    const { deps } = unitDeps();
    const state = runningState({
      status: 'FAILED',
      error: 'ERROR: Database response exceeded size limit',
    });

    const outcome = await releaseSession(
      { outcome: 'FAILED', executionArn: EXECUTION_ARN, state },
      deps,
    );

    expect(outcome.failure?.error).toBe('ResultTooLargeError');
    const cause = JSON.parse(outcome.failure?.cause ?? '');
    expect(cause.message).toMatch(/larger than the Redshift Data API returns.*UNLOAD/);
    expect(cause.redshiftError).toBe('ERROR: Database response exceeded size limit');
  });

  it("keeps the Cause within 16 KiB whatever Redshift's text, which it holds once", async () => {
    const { deps } = unitDeps();
    const huge = `ERROR: invalid input syntax for type integer: "${'9'.repeat(100 * 1024)}"`;
    const state = runningState({ status: 'FAILED', error: huge });

    const outcome = await releaseSession(
      { outcome: 'FAILED', executionArn: EXECUTION_ARN, state },
      deps,
    );

    const cause = outcome.failure?.cause ?? '';
    expect(Buffer.byteLength(cause)).toBeLessThanOrEqual(16 * 1024);
    const parsed = JSON.parse(cause);
    expect(parsed.message).toBe('The statement failed');
    expect(parsed.redshiftError).toMatch(/^ERROR: invalid input syntax for type integer: "9{100}/);
    expect(parsed.redshiftError).toMatch(/\[cut: 102448 bytes in all\]$/);
  });

  it.each([
    ['ABORTED', 'releases'],
    ['STARTED', 'drops'],
  ] as const)(
    'describes a statement cancelled at its deadline as QueryTimeoutError, and a session whose statement ended %s %s it',
    async (status, fate) => {
      // Prepare
      const { deps, count } = unitDeps();
      const state = runningState({ status, cancelledFor: 'timeout', polls: 3 });

      // Act
      const outcome = await releaseSession(
        { outcome: 'FAILED', executionArn: EXECUTION_ARN, state },
        deps,
      );

      // Assess
      expect(outcome.failure?.error).toBe('QueryTimeoutError');
      const cause = JSON.parse(outcome.failure?.cause ?? '');
      expect(cause.message).toMatch(
        /ran past its timeout \(timeoutSeconds 3600, until .+\); the statement was cancelled/,
      );
      expect(cause.statementId).toBe('st-1');
      if (fate === 'releases') {
        expect(outcome).toMatchObject({ released: true });
        expect(ddb).not.toReceiveCommand(DeleteCommand);
      } else {
        expect(outcome).toMatchObject({ released: false, dropped: true });
        expect(ddb).toReceiveCommandWith(DeleteCommand, {
          Key: { pool_id: 'acme#tenant_acme', session_id: 'sess-1' },
        });
        expect(count('SessionInvalidated')).toBe(1);
      }
    },
  );

  it("names the history guard's cancel QueryTimeoutError too, saying why", async () => {
    const { deps } = unitDeps();
    const state = runningState({ status: 'ABORTED', cancelledFor: 'history', polls: 790 });

    const outcome = await releaseSession(
      { outcome: 'FAILED', executionArn: EXECUTION_ARN, state },
      deps,
    );

    expect(outcome.failure?.error).toBe('QueryTimeoutError');
    expect(JSON.parse(outcome.failure?.cause ?? '').message).toContain(
      "history neared Step Functions' limit of 25,000 events after 790 polls",
    );
  });

  it("names a statement that Redshift's own statement_timeout cancelled QueryTimeoutError", async () => {
    const { deps } = unitDeps();
    const state = runningState({
      status: 'FAILED',
      error: 'ERROR: canceling statement due to statement timeout',
    });

    const outcome = await releaseSession(
      { outcome: 'FAILED', executionArn: EXECUTION_ARN, state },
      deps,
    );

    expect(outcome.failure?.error).toBe('QueryTimeoutError');
    expect(JSON.parse(outcome.failure?.cause ?? '').redshiftError).toBe(
      'ERROR: canceling statement due to statement timeout',
    );
  });

  it('describes an aborted statement as QueryAbortedError', async () => {
    const { deps } = unitDeps();

    const outcome = await releaseSession(
      {
        outcome: 'FAILED',
        executionArn: EXECUTION_ARN,
        state: runningState({ status: 'ABORTED' }),
      },
      deps,
    );

    expect(outcome.failure?.error).toBe('QueryAbortedError');
  });

  it("passes a caught error's name through, with the message from Lambda's Cause", async () => {
    const { deps } = unitDeps();
    const caught = {
      Error: 'SessionUnavailableError',
      Cause: JSON.stringify({
        errorType: 'SessionUnavailableError',
        errorMessage: 'gave up',
        trace: [],
      }),
    };

    const outcome = await releaseSession(
      {
        outcome: 'FAILED',
        executionArn: EXECUTION_ARN,
        state: runningState({}, { error: caught }),
      },
      deps,
    );

    expect(outcome.failure).toEqual({
      error: 'SessionUnavailableError',
      cause: JSON.stringify({ message: 'gave up', tenantId: 'acme', statementId: 'st-1' }),
    });
  });

  it('names the Lambda service failing through every retry TransientServiceError', async () => {
    const { deps } = unitDeps();
    const caught = {
      Error: 'Lambda.ServiceException',
      Cause: JSON.stringify({
        errorType: 'Lambda.ServiceException',
        errorMessage: 'Rate exceeded',
      }),
    };

    const outcome = await releaseSession(
      {
        outcome: 'FAILED',
        executionArn: EXECUTION_ARN,
        state: runningState({}, { error: caught }),
      },
      deps,
    );

    expect(outcome.failure?.error).toBe('TransientServiceError');
    expect(JSON.parse(outcome.failure?.cause ?? '').message).toBe(
      'Lambda.ServiceException through every retry: Rate exceeded',
    );
  });

  it('drops a lease the state does not name when SubmitQuery ran but its result was lost', async () => {
    // Prepare: SubmitQuery recorded a new session, and then every response of it was lost
    const { deps } = unitDeps();
    ddb.on(QueryCommand).resolves({ Items: [strayLease] });
    const caught = { Error: 'Lambda.ServiceException', Cause: 'lost' };
    const state = {
      ...runningState({}, { error: caught, session: { sessionId: null, reused: false } }),
      statement: undefined,
    };

    // Act
    const outcome = await releaseSession(
      { outcome: 'FAILED', executionArn: EXECUTION_ARN, state },
      deps,
    );

    // Assess
    expect(outcome.strayLeases).toBe(1);
    expect(ddb).toReceiveCommandWith(DeleteCommand, {
      Key: { pool_id: 'acme#tenant_acme', session_id: 'stray' },
      ExpressionAttributeValues: expect.objectContaining({ ':owner': EXECUTION_ARN }),
    });
  });

  it('gives back, unused, a lease AcquireSession took before it kept failing', async () => {
    // Prepare: the state holds only the caught error; the execution input names the tenant
    const { deps } = unitDeps();
    ddb.on(QueryCommand).resolves({ Items: [strayLease] });
    const state = { Error: 'TransientServiceError', Cause: 'DynamoDB kept throttling' };

    // Act
    const outcome = await releaseSession(
      {
        outcome: 'FAILED',
        executionArn: EXECUTION_ARN,
        input: { tenantId: 'acme', sql: 'select 1' },
        state,
      },
      deps,
    );

    // Assess
    expect(outcome.strayLeases).toBe(1);
    expect(ddb).toReceiveCommandWith(UpdateCommand, {
      Key: { pool_id: 'acme#tenant_acme', session_id: 'stray' },
      UpdateExpression: 'SET #state = :idle REMOVE lease_owner, lease_expires_at',
    });
    expect(ddb).not.toReceiveCommandWith(DeleteCommand, {
      Key: { pool_id: 'acme#tenant_acme', session_id: 'stray' },
    });
  });

  it("gives back the slots AcquireSession reserved, as the execution's record names them, when no session holds them", async () => {
    // Prepare: AcquireSession reserved slots, wrote them to the record, and then kept failing
    const { deps } = unitDeps();
    ddb.on(QueryCommand).resolves({ Items: [] });
    ddb.on(GetCommand).resolves({
      Item: { reservation: { claim: 'claim-9', slot: 2, totalSlot: 40, reservedAt: '' } },
    });
    const state = { Error: 'TransientServiceError', Cause: 'DynamoDB kept throttling' };

    // Act
    await releaseSession(
      {
        outcome: 'FAILED',
        executionArn: EXECUTION_ARN,
        input: { tenantId: 'acme', sql: 'select 1' },
        state,
      },
      deps,
    );

    // Assess
    for (const Key of [
      { pool_id: '#slot#acme#tenant_acme', session_id: '2' },
      { pool_id: '#total-slot#cluster/analytics', session_id: '40' },
    ])
      expect(ddb).toReceiveCommandWith(DeleteCommand, {
        Key,
        ConditionExpression: 'claim = :claim',
        ExpressionAttributeValues: { ':claim': 'claim-9' },
      });
  });

  it('looks for no lease when the state names its session', async () => {
    const { deps } = unitDeps();

    await releaseSession(
      {
        outcome: 'FAILED',
        executionArn: EXECUTION_ARN,
        state: runningState({ status: 'FAILED', error: 'ERROR: boom' }),
      },
      deps,
    );

    expect(ddb).not.toReceiveCommand(QueryCommand);
  });

  it('touches no session when the execution failed before it had one', async () => {
    const { deps } = unitDeps();
    const state = {
      Error: 'InvalidInputError',
      Cause: JSON.stringify({
        errorType: 'InvalidInputError',
        errorMessage: 'Invalid input: sql is required',
      }),
    };

    const outcome = await releaseSession(
      { outcome: 'FAILED', executionArn: EXECUTION_ARN, input: { tenantId: 'acme' }, state },
      deps,
    );

    expect(outcome).toEqual({
      released: false,
      failure: {
        error: 'InvalidInputError',
        cause: JSON.stringify({ message: 'Invalid input: sql is required' }),
      },
    });
    expect(ddb.calls()).toHaveLength(0);
  });

  it('refuses, through its handler, a state it cannot read, naming the step and the field', async () => {
    await expect(
      handler({ executionArn: EXECUTION_ARN, state: {} }, lambdaContext),
    ).rejects.toMatchObject(refusedState('ReleaseSession', 'outcome'));
    expect(ddb.calls()).toHaveLength(0);
  });
});
