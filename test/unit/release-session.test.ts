import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { releaseSession } from '../../functions/release-session.ts';
import { runningState } from '../support/query-state.ts';
import { EXECUTION_ARN, unitDeps } from '../support/unit-deps.ts';

const ddb = mockClient(DynamoDBDocumentClient);

describe('Function: releaseSession', () => {
  beforeEach(() => {
    ddb.reset();
    ddb.on(UpdateCommand).resolves({});
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
      Key: { pool_id: 'acme#acme', session_id: 'sess-1' },
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
      message: 'The statement failed: ERROR: permission denied for relation sales',
      tenantId: 'acme',
      statementId: 'st-1',
      redshiftError: 'ERROR: permission denied for relation sales',
    });
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
      { outcome: 'FAILED', executionArn: EXECUTION_ARN, state },
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
});
