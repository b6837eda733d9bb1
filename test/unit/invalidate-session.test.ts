import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { invalidateSession, MAX_RESUBMITS } from '../../functions/invalidate-session.ts';
import { runningState } from '../support/query-state.ts';
import { deletedItem, EXECUTION_ARN, unitDeps } from '../support/unit-deps.ts';

const ddb = mockClient(DynamoDBDocumentClient);
const stale = runningState(
  {},
  { error: { Error: 'StaleSessionError', Cause: '{"errorMessage":"Session is not available"}' } },
);

describe('Function: invalidateSession', () => {
  beforeEach(() => {
    ddb.reset();
    ddb.on(DeleteCommand).callsFake(deletedItem);
  });

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
});
