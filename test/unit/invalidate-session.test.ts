import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { handler, invalidateSession, MAX_RESUBMITS } from '../../functions/invalidate-session.ts';
import { lambdaContext, refusedState } from '../support/lambda-context.ts';
import { ddb } from '../support/mocked-clients.ts';
import { queryOf, runningState } from '../support/query-state.ts';
import { EXECUTION_ARN, unitDeps } from '../support/unit-deps.ts';

const stale = runningState(
  {},
  { error: { Error: 'StaleSessionError', Cause: '{"errorMessage":"Session is not available"}' } },
);

describe('Function: invalidateSession', () => {
  it('deletes the refused session and sends the query back without one, with a new attempt number', async () => {
    // Prepare
    const { deps, count } = unitDeps();

    // Act
    const next = await invalidateSession(stale, deps);

    // Assess
    expect(ddb).toReceiveCommandWith(DeleteCommand, {
      Key: { pool_id: 'acme#tenant_acme', session_id: 'sess-1' },
      ExpressionAttributeValues: expect.objectContaining({ ':owner': EXECUTION_ARN }),
    });
    expect(next.session).toEqual({ sessionId: null, reused: false });
    expect(next.submitAttempt).toBe(1);
    expect(next.resubmits).toBe(1);
    expect(next.statement).toBeUndefined();
    expect(next.error).toBeUndefined();
    expect(count('SessionInvalidated')).toBe(1);
  });

  it("keeps the refused session's slots for the session that replaces it, and writes them to the execution's record", async () => {
    // Prepare: the refused session held slot 2 of the tenant and 20 of the cluster
    const { deps } = unitDeps();
    ddb.on(DeleteCommand).callsFake((input) => ({
      Attributes: {
        ...input.Key,
        tenant_id: 'acme',
        db_user: 'tenant_acme',
        created_at: '2026-11-28T11:00:00.000Z',
        slot: 2,
        total_slot: 20,
        slot_claim: 'claim-2',
      },
    }));

    // Act
    const next = await invalidateSession(stale, deps);

    // Assess
    expect(next.session).toEqual({
      sessionId: null,
      reused: false,
      reservation: { claim: 'claim-2', slot: 2, totalSlot: 20, reservedAt: expect.any(String) },
    });
    expect(ddb).toReceiveCommandWith(UpdateCommand, {
      Key: { pool_id: '#slot#acme#tenant_acme', session_id: '2' },
      ConditionExpression: 'claim = :claim',
    });
    expect(ddb).toReceiveCommandWith(UpdateCommand, {
      Key: { pool_id: `#execution#${EXECUTION_ARN}`, session_id: 'execution' },
      ExpressionAttributeValues: expect.objectContaining({
        ':reservation': next.session.reservation,
      }),
    });
  });

  it('drops the session SubmitQuery took while it waited, found by its lease, when the state names none', async () => {
    // Prepare: SubmitQuery leased a session given back, and the Data API refused it
    const { deps } = unitDeps();
    ddb.on(QueryCommand).resolves({
      Items: [
        {
          pool_id: 'acme#tenant_acme',
          session_id: 'other',
          state: 'LEASED',
          lease_owner: 'someone',
        },
        {
          pool_id: 'acme#tenant_acme',
          session_id: 'taken',
          state: 'LEASED',
          lease_owner: EXECUTION_ARN,
        },
      ],
    });
    const state = { ...stale, session: { sessionId: null, reused: false, sessionsLeased: true } };

    // Act
    await invalidateSession(state, deps);

    // Assess
    expect(ddb).toReceiveCommandTimes(DeleteCommand, 1);
    expect(ddb).toReceiveCommandWith(DeleteCommand, {
      Key: { pool_id: 'acme#tenant_acme', session_id: 'taken' },
    });
  });

  it('goes on when the record is already gone', async () => {
    const { deps } = unitDeps();
    ddb
      .on(DeleteCommand)
      .rejects(new ConditionalCheckFailedException({ message: 'failed', $metadata: {} }));

    await expect(invalidateSession(stale, deps)).resolves.toEqual(
      expect.objectContaining({ resubmits: 1 }),
    );
  });

  it(`throws SessionUnavailableError after ${MAX_RESUBMITS} resubmissions`, async () => {
    const { deps } = unitDeps();

    await expect(invalidateSession({ ...stale, resubmits: MAX_RESUBMITS }, deps)).rejects.toThrow(
      expect.objectContaining({
        name: 'SessionUnavailableError',
        message: expect.stringContaining('gave up after 2 resubmissions'),
      }),
    );
  });

  it('refuses, through its handler, a state it cannot read, naming the step and the field', async () => {
    await expect(
      handler({ executionArn: EXECUTION_ARN, query: queryOf() }, lambdaContext),
    ).rejects.toMatchObject(refusedState('InvalidateSession', 'session'));
    expect(ddb.calls()).toHaveLength(0);
  });
});
