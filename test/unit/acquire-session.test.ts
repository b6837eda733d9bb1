import { QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { acquireSession, handler } from '../../functions/acquire-session.ts';
import { lambdaContext, refusedState } from '../support/lambda-context.ts';
import { ddb, pooledSession } from '../support/mocked-clients.ts';
import { EXECUTION_ARN, NOW, unitDeps } from '../support/unit-deps.ts';

const idle = pooledSession({ session_id: 'pooled' });

describe('Function: acquireSession', () => {
  // Slots are free, the pool is empty, and the execution's record takes every write.
  it('leases a pooled session and counts a SessionHit', async () => {
    // Prepare
    const { deps, count } = unitDeps();
    ddb.on(QueryCommand).resolves({ Items: [idle] });
    ddb.on(UpdateCommand).resolves({ Attributes: { ...idle, state: 'LEASED' } });

    // Act
    const state = await acquireSession(
      { request: { tenantId: 'acme', sql: 'select 1' }, executionArn: EXECUTION_ARN },
      deps,
    );

    // Assess
    expect(state).toEqual({
      executionArn: EXECUTION_ARN,
      query: {
        tenantId: 'acme',
        dbUser: 'tenant_acme',
        leavesSessionState: false,
        timeoutSeconds: 3600,
        deadline: '2026-11-28T13:00:00.000Z',
      },
      session: { sessionId: 'pooled', reused: true, createdAt: idle.created_at },
      submitAttempt: 0,
      resubmits: 0,
      historyEventsBound: 51,
    });
    expect(JSON.stringify(state)).not.toContain('select 1');
    expect(count('SessionHit')).toBe(1);
    expect(count('SessionMiss')).toBe(0);
    expect(ddb).toReceiveCommandWith(QueryCommand, {
      ExpressionAttributeValues: { ':pool': 'acme#tenant_acme' },
    });
  });

  it("fixes the deadline at the execution's start plus the input's timeoutSeconds", async () => {
    const { deps } = unitDeps();
    ddb.on(QueryCommand).resolves({ Items: [idle] });
    ddb.on(UpdateCommand).resolves({ Attributes: { ...idle, state: 'LEASED' } });

    const state = await acquireSession(
      {
        request: { tenantId: 'acme', sql: 'select 1', timeoutSeconds: 90 },
        executionArn: EXECUTION_ARN,
        startTime: '2026-11-28T11:59:30.000Z',
      },
      deps,
    );

    expect(state.query).toMatchObject({ timeoutSeconds: 90, deadline: '2026-11-28T12:01:00.000Z' });
  });

  it('takes the timeout from SPECTRA_QUERY_TIMEOUT_SECONDS when the input sets none', async () => {
    const { deps } = unitDeps({ SPECTRA_QUERY_TIMEOUT_SECONDS: '600' });

    const state = await acquireSession(
      { request: { tenantId: 'acme', sql: 'select 1' }, executionArn: EXECUTION_ARN },
      deps,
    );

    expect(state.query).toMatchObject({
      timeoutSeconds: 600,
      deadline: '2026-11-28T12:10:00.000Z',
    });
  });

  it('throws QueryTimeoutError, leasing nothing, when the deadline passed while it was retried', async () => {
    const { deps } = unitDeps();

    await expect(
      acquireSession(
        {
          request: { tenantId: 'acme', sql: 'select 1', timeoutSeconds: 30 },
          executionArn: EXECUTION_ARN,
          startTime: '2026-11-28T11:59:00.000Z',
        },
        deps,
      ),
    ).rejects.toThrow(expect.objectContaining({ name: 'QueryTimeoutError' }));
    expect(ddb.calls()).toHaveLength(0);
  });

  it.each([
    [0, 'number 0'],
    [86_401, 'number 86401'],
    [1.5, 'number 1.5'],
    ['60', '"60"'],
  ])(
    'throws InvalidInputError for timeoutSeconds %j, saying what is allowed, without touching DynamoDB',
    async (timeoutSeconds, got) => {
      const { deps } = unitDeps();

      await expect(
        acquireSession(
          {
            request: { tenantId: 'acme', sql: 'select 1', timeoutSeconds },
            executionArn: EXECUTION_ARN,
          },
          deps,
        ),
      ).rejects.toThrow(
        expect.objectContaining({
          name: 'InvalidInputError',
          message: expect.stringMatching(
            new RegExp(
              `timeoutSeconds must be a whole number of seconds from 1 to 86400 .*; got ${got.replace('.', '\\.')}`,
            ),
          ),
        }),
      );
      expect(ddb.calls()).toHaveLength(0);
    },
  );

  it('throws InvalidInputError for an input too large to travel beside the state, naming its size', async () => {
    const { deps } = unitDeps();
    const request = {
      tenantId: 'acme',
      sql: 'select :a, :b, :c, :d',
      parameters: ['a', 'b', 'c', 'd'].map((name) => ({ name, value: 'v'.repeat(64 * 1024) })),
    };

    await expect(acquireSession({ request, executionArn: EXECUTION_ARN }, deps)).rejects.toThrow(
      expect.objectContaining({
        name: 'InvalidInputError',
        message: expect.stringMatching(
          /the input must be a JSON object of at most 204800 bytes; got 262\d{3} bytes/,
        ),
      }),
    );
    expect(ddb.calls()).toHaveLength(0);
  });

  it('reports a miss and counts SessionMiss and the expired sessions it dropped', async () => {
    const { deps, count } = unitDeps();
    ddb.on(QueryCommand).resolves({ Items: [{ ...idle, expires_at: '2026-11-28T12:00:10.000Z' }] });

    const state = await acquireSession(
      { request: { tenantId: 'acme', sql: 'select 1' }, executionArn: EXECUTION_ARN },
      deps,
    );

    expect(state.session).toEqual({
      sessionId: null,
      reused: false,
      reservation: {
        claim: expect.any(String),
        slot: 0,
        totalSlot: expect.any(Number),
        reservedAt: NOW.toISOString(),
      },
    });
    expect(count('SessionMiss')).toBe(1);
    expect(count('SessionExpired')).toBe(1);
  });

  it('maps the tenant to its db user through SPECTRA_DB_USER_TEMPLATE', async () => {
    const { deps } = unitDeps({ SPECTRA_DB_USER_TEMPLATE: 'spectra_{tenant}' });
    ddb.on(QueryCommand).resolves({ Items: [] });

    const state = await acquireSession(
      { request: { tenantId: 'tenant-1', sql: 'select 1' }, executionArn: EXECUTION_ARN },
      deps,
    );

    expect(state.query.dbUser).toBe('spectra_tenant_1');
  });

  it.each([
    [{ sql: 'select 1' }, 'tenantId is required'],
    [{ tenantId: 'acme' }, 'sql is required'],
    [{ tenantId: "o'brien", sql: 'select 1' }, 'tenantId must be 1-63 characters'],
    [
      { tenantId: 'acme', sql: 'select 1', parameters: [{ name: 'x', value: '' }] },
      'parameters[0].value must not be empty',
    ],
    [{ tenantId: 'acme', sql: 'select 1', timeout: 5 }, 'unknown field "timeout"'],
  ])('throws InvalidInputError for %o without touching DynamoDB', async (request, message) => {
    const { deps } = unitDeps();

    await expect(acquireSession({ request, executionArn: EXECUTION_ARN }, deps)).rejects.toThrow(
      expect.objectContaining({
        name: 'InvalidInputError',
        message: expect.stringContaining(message),
      }),
    );
    expect(ddb.calls()).toHaveLength(0);
  });

  it.each([
    [{ SPECTRA_DB_USER_TEMPLATE: '{tenant}db' }, 'rds', 'rdsdb'],
    [{ SPECTRA_DB_USER_TEMPLATE: '{tenant}_ro' }, 'pg', 'pg_ro'],
    [
      { SPECTRA_DB_USER_TEMPLATE: '{tenant}_admin', SPECTRA_DENIED_DB_USERS: 'ops_admin' },
      'ops',
      'ops_admin',
    ],
  ])(
    'refuses, under %o, tenant %s (user %s) without touching DynamoDB',
    async (env, tenantId, user) => {
      const { deps } = unitDeps(env);

      await expect(
        acquireSession(
          { request: { tenantId, sql: 'select 1' }, executionArn: EXECUTION_ARN },
          deps,
        ),
      ).rejects.toThrow(
        expect.objectContaining({
          name: 'InvalidInputError',
          message: expect.stringContaining(`would run as database user "${user}"`),
        }),
      );
      expect(ddb.calls()).toHaveLength(0);
    },
  );

  it.each([
    [{ tenantId: 'acme', sql: 780_511_200 }, 'sql must be SQL text', 'got a number'],
    [
      { tenantId: 'acme', sql: 'select :ssn', parameters: [{ name: 'ssn', value: 780_511_200 }] },
      'parameters[0].value must be a non-empty string',
      'got a number',
    ],
  ])('says what kind of value %o has, never the value itself', async (request, field, got) => {
    const { deps } = unitDeps();

    const error = await acquireSession({ request, executionArn: EXECUTION_ARN }, deps).catch(
      (thrown: Error) => thrown,
    );

    expect(error).toMatchObject({ name: 'InvalidInputError' });
    expect((error as Error).message).toContain(field);
    expect((error as Error).message).toContain(got);
    expect((error as Error).message).not.toContain('780511200');
  });

  it('refuses, through its handler, a state it cannot read, naming the step and the field', async () => {
    await expect(
      handler({ request: { tenantId: 'acme', sql: 'select 1' } }, lambdaContext),
    ).rejects.toMatchObject(refusedState('AcquireSession', 'executionArn'));
    expect(ddb.calls()).toHaveLength(0);
  });
});
