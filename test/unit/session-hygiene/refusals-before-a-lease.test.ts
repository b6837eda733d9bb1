import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { acquireSession } from '../../../functions/acquire-session.ts';
import { InvalidInputError } from '../../../functions/common/errors.ts';
import { ddb } from '../../support/mocked-clients.ts';
import { EXECUTION_ARN, unitDeps } from '../../support/unit-deps.ts';
import * as fx from './fixtures.ts';

/**
 * What AcquireSession refuses before it leases a session (transaction control, parameters that do
 * not match their placeholders, malformed `statements`), and SQL that leaves state never waiting
 * for a busy session.
 */

beforeEach(fx.idlePool);

describe('Function: acquireSession', () => {
  const acquire = (request: unknown) =>
    acquireSession({ request, executionArn: EXECUTION_ARN }, unitDeps().deps);

  it.each([
    ['begin', 'BEGIN'],
    ['  -- open one\nSTART TRANSACTION', 'START TRANSACTION'],
    ['insert into t values (1); commit', 'COMMIT'],
  ])(
    'throws InvalidInputError for transaction control in sql (%s), before any call',
    async (sql, command) => {
      const error = await fx.refusal(acquire({ tenantId: 'acme', sql }));

      expect(error).toBeInstanceOf(InvalidInputError);
      expect(error.message).toContain(command);
      expect(error.message).toContain('statements');
      expect(ddb.calls()).toHaveLength(0);
    },
  );

  it('throws InvalidInputError for transaction control inside statements', async () => {
    const error = await fx.refusal(
      acquire({ tenantId: 'acme', statements: ['insert into t values (1)', 'rollback'] }),
    );

    expect(error.message).toContain('statements[1] holds transaction control, ROLLBACK');
  });

  it('throws InvalidInputError naming placeholders without a parameter and parameters never used', async () => {
    const error = await fx.refusal(
      acquire({
        tenantId: 'acme',
        statements: ["select :a, ':quoted' -- :commented", 'select :b::int'],
        parameters: [
          { name: 'a', value: '1' },
          { name: 'unused', value: '2' },
        ],
      }),
    );

    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.message).toContain('refers to :b, but parameters has no b');
    expect(error.message).toContain('parameters unused is not used');
    expect(error.message).not.toContain('quoted');
    expect(ddb.calls()).toHaveLength(0);
  });

  it.each([
    [{ sql: 'select 1', statements: ['select 1'] }, 'sql and statements cannot both be given'],
    [{ statements: [] }, 'statements must not be empty'],
    [{ statements: Array.from({ length: 41 }, () => 'select 1') }, 'got 41'],
    [{ statements: ['select 1', '  '] }, 'statements[1] must not be empty'],
    [{ sql: 'select 1', transaction: false }, 'transaction applies only to statements'],
    [{}, 'sql is required'],
  ])('throws InvalidInputError for %j', async (fields, message) => {
    const error = await fx.refusal(acquire({ tenantId: 'acme', ...fields }));

    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.message).toContain(message);
  });

  it('leases an idle session for SQL that leaves state, but does not wait for a busy one', async () => {
    // Prepare: the only session is leased to someone else.
    ddb.on(QueryCommand).resolves({
      Items: [
        {
          ...fx.idleSession,
          state: 'LEASED',
          lease_owner: 'other',
          lease_expires_at: '2026-11-28T12:04:00.000Z',
        },
      ],
    });

    // Act
    const state = await acquire({ tenantId: 'acme', sql: 'set search_path to pg_catalog' });

    // Assess: one read of the pool, no waiting for the lease to come back.
    expect(state.session).toEqual({ sessionId: null, reused: false });
    expect(ddb.commandCalls(QueryCommand)).toHaveLength(1);
  });
});
