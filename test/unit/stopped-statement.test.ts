import {
  CancelStatementCommand,
  DescribeStatementCommand,
  ListSessionsCommand,
  ValidationException,
} from '@aws-sdk/client-redshift-data';
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  CANCEL_WAIT_SECONDS,
  giveBackStopped,
  settleStatement,
} from '../../functions/common/stopped-statement.ts';
import { ddb, pooledSession, redshift, resetClients } from '../support/mocked-clients.ts';
import { EXECUTION_ARN, unitDeps } from '../support/unit-deps.ts';

/**
 * A stopped execution's statement that had committed when the stop came: whatever CancelStatement
 * answers, the statement ends FINISHED, its result stands, and its session goes back to the pool.
 */

const ENDED_AT = new Date('2026-11-28T11:59:58.000Z');
const LEASE = {
  tenantId: 'acme',
  dbUser: 'tenant_acme',
  sessionId: 'sess-1',
  createdAt: '2026-11-28T11:00:00.000Z',
};

/** Running when first asked; FINISHED only to a DescribeStatement that waits for its end. */
function committedBeforeItsStatusSaysSo() {
  redshift
    .on(DescribeStatementCommand, { WaitTimeSeconds: undefined })
    .resolves({ Id: 'st-1', Status: 'STARTED', SessionId: 'sess-1' });
  redshift
    .on(DescribeStatementCommand, { WaitTimeSeconds: CANCEL_WAIT_SECONDS })
    .resolves({ Id: 'st-1', Status: 'FINISHED', SessionId: 'sess-1', UpdatedAt: ENDED_AT });
}

const refusedWhileCommitting = () =>
  new ValidationException({
    message: 'Could not cancel a query that is already committing with ID: st-1',
    $metadata: { httpStatusCode: 400 },
  });

describe('Stopped statements: one that had committed', () => {
  beforeEach(() => {
    resetClients([
      pooledSession({
        state: 'LEASED',
        lease_owner: EXECUTION_ARN,
        lease_expires_at: '2026-11-28T12:04:00.000Z',
      }),
    ]);
    redshift
      .on(ListSessionsCommand)
      .resolves({ Sessions: [{ SessionId: 'sess-1', Status: 'AVAILABLE', CreatedAt: ENDED_AT }] });
  });

  it.each([
    [
      'refused with a ValidationException',
      () => redshift.on(CancelStatementCommand).rejects(refusedWhileCommitting()),
    ],
    [
      'answered Status false',
      () => redshift.on(CancelStatementCommand).resolves({ Status: false }),
    ],
    ['answered Status true', () => redshift.on(CancelStatementCommand).resolves({ Status: true })],
  ])(
    'ends FINISHED, not cancelled, when its cancel is %s, and its session is released',
    async (_, cancelAnswers) => {
      // Prepare
      const { deps } = unitDeps({}, undefined, async () => undefined);
      committedBeforeItsStatusSaysSo();
      cancelAnswers();

      // Act
      const settled = await settleStatement(deps, 'st-1', true);
      const given = await giveBackStopped(deps, settled, false, {
        tenantId: LEASE.tenantId,
        dbUser: LEASE.dbUser,
        owner: EXECUTION_ARN,
        sessions: [{ session_id: LEASE.sessionId, created_at: LEASE.createdAt }],
      });

      // Assess
      expect(settled).toEqual({
        kind: 'ended',
        cancelled: false,
        endedAt: ENDED_AT.toISOString(),
        sessionId: 'sess-1',
        described: expect.objectContaining({ Status: 'FINISHED' }),
      });
      expect(given.released).toEqual([LEASE.sessionId]);
      expect(ddb).not.toReceiveCommandWith(DeleteCommand, {
        Key: { pool_id: 'acme#tenant_acme', session_id: 'sess-1' },
      });
    },
  );
});
