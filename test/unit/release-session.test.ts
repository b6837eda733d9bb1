import { DeleteCommand, GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import type { StepDeps } from '../../functions/common/deps.ts';
import {
  handler,
  type ReleaseSessionEvent,
  releaseSession,
} from '../../functions/release-session.ts';
import { lambdaContext, refusedState } from '../support/lambda-context.ts';
import { ddb, pooledSession } from '../support/mocked-clients.ts';
import { runningState } from '../support/query-state.ts';
import { EXECUTION_ARN, unitDeps } from '../support/unit-deps.ts';

/** ReleaseSession on the failure path, for `state` and, when given, the execution `input`. */
function releaseAfterFailure(
  state: ReleaseSessionEvent['state'],
  { deps = unitDeps().deps, input }: { deps?: StepDeps; input?: Record<string, unknown> } = {},
) {
  return releaseSession(
    { outcome: 'FAILED', executionArn: EXECUTION_ARN, state, ...(input ? { input } : {}) },
    deps,
  );
}

/** The state of an execution whose statement failed with Redshift's text `error`. */
const failedWith = (error: string) => runningState({ status: 'FAILED', error });

/** What a Task's Catch puts in the state for an error its function threw: the name, Lambda's Cause. */
const caughtError = (errorType: string, errorMessage: string) => ({
  Error: errorType,
  Cause: JSON.stringify({ errorType, errorMessage, trace: [] }),
});

/** A failed execution's state as AcquireSession leaves it when it keeps failing: only its error. */
const acquireKeptFailing = { Error: 'TransientServiceError', Cause: 'DynamoDB kept throttling' };

describe('Function: releaseSession', () => {
  const strayLease = pooledSession({
    session_id: 'stray',
    created_at: '2026-11-28T11:59:00.000Z',
    state: 'LEASED',
    lease_owner: EXECUTION_ARN,
    lease_expires_at: '2026-11-28T12:04:00.000Z',
  });

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
    const state = failedWith('ERROR: permission denied for relation sales');

    const outcome = await releaseAfterFailure(state);

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
    const state = failedWith('ERROR: Database response exceeded size limit');

    const outcome = await releaseAfterFailure(state);

    expect(outcome.failure?.error).toBe('ResultTooLargeError');
    const cause = JSON.parse(outcome.failure?.cause ?? '');
    expect(cause.message).toMatch(/larger than the Redshift Data API returns.*UNLOAD/);
    expect(cause.redshiftError).toBe('ERROR: Database response exceeded size limit');
  });

  it("keeps the Cause within 16 KiB whatever Redshift's text, which it holds once", async () => {
    const huge = `ERROR: invalid input syntax for type integer: "${'9'.repeat(100 * 1024)}"`;
    const state = failedWith(huge);

    const outcome = await releaseAfterFailure(state);

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
      const outcome = await releaseAfterFailure(state, { deps });

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
    const state = runningState({ status: 'ABORTED', cancelledFor: 'history', polls: 790 });

    const outcome = await releaseAfterFailure(state);

    expect(outcome.failure?.error).toBe('QueryTimeoutError');
    expect(JSON.parse(outcome.failure?.cause ?? '').message).toContain(
      "history neared Step Functions' limit of 25,000 events after 790 polls",
    );
  });

  it("names a statement that Redshift's own statement_timeout cancelled QueryTimeoutError", async () => {
    const state = failedWith('ERROR: canceling statement due to statement timeout');

    const outcome = await releaseAfterFailure(state);

    expect(outcome.failure?.error).toBe('QueryTimeoutError');
    expect(JSON.parse(outcome.failure?.cause ?? '').redshiftError).toBe(
      'ERROR: canceling statement due to statement timeout',
    );
  });

  it('describes an aborted statement as QueryAbortedError', async () => {
    const outcome = await releaseAfterFailure(runningState({ status: 'ABORTED' }));

    expect(outcome.failure?.error).toBe('QueryAbortedError');
  });

  it("passes a caught error's name through, with the message from Lambda's Cause", async () => {
    const caught = caughtError('SessionUnavailableError', 'gave up');

    const outcome = await releaseAfterFailure(runningState({}, { error: caught }));

    expect(outcome.failure).toEqual({
      error: 'SessionUnavailableError',
      cause: JSON.stringify({ message: 'gave up', tenantId: 'acme', statementId: 'st-1' }),
    });
  });

  it('names the Lambda service failing through every retry TransientServiceError', async () => {
    const caught = caughtError('Lambda.ServiceException', 'Rate exceeded');

    const outcome = await releaseAfterFailure(runningState({}, { error: caught }));

    expect(outcome.failure?.error).toBe('TransientServiceError');
    expect(JSON.parse(outcome.failure?.cause ?? '').message).toBe(
      'Lambda.ServiceException through every retry: Rate exceeded',
    );
  });

  it('drops a lease the state does not name when SubmitQuery ran but its result was lost', async () => {
    // Prepare: SubmitQuery recorded a new session, and then every response of it was lost
    ddb.on(QueryCommand).resolves({ Items: [strayLease] });
    const caught = { Error: 'Lambda.ServiceException', Cause: 'lost' };
    const state = {
      ...runningState({}, { error: caught, session: { sessionId: null, reused: false } }),
      statement: undefined,
    };

    // Act
    const outcome = await releaseAfterFailure(state);

    // Assess
    expect(outcome.strayLeases).toBe(1);
    expect(ddb).toReceiveCommandWith(DeleteCommand, {
      Key: { pool_id: 'acme#tenant_acme', session_id: 'stray' },
      ExpressionAttributeValues: expect.objectContaining({ ':owner': EXECUTION_ARN }),
    });
  });

  it('gives back, unused, a lease AcquireSession took before it kept failing', async () => {
    // Prepare: the state holds only the caught error; the execution input names the tenant
    ddb.on(QueryCommand).resolves({ Items: [strayLease] });

    // Act
    const outcome = await releaseAfterFailure(acquireKeptFailing, {
      input: { tenantId: 'acme', sql: 'select 1' },
    });

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
    ddb.on(QueryCommand).resolves({ Items: [] });
    ddb.on(GetCommand).resolves({
      Item: { reservation: { claim: 'claim-9', slot: 2, totalSlot: 40, reservedAt: '' } },
    });

    // Act
    await releaseAfterFailure(acquireKeptFailing, { input: { tenantId: 'acme', sql: 'select 1' } });

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
    await releaseAfterFailure(failedWith('ERROR: boom'));

    expect(ddb).not.toReceiveCommand(QueryCommand);
  });

  it('touches no session when the execution failed before it had one', async () => {
    const state = caughtError('InvalidInputError', 'Invalid input: sql is required');

    const outcome = await releaseAfterFailure(state, { input: { tenantId: 'acme' } });

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
