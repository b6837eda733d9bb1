import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { cleanupSessions } from '../../functions/cleanup-sessions.ts';
import { dynamoDbDocumentClient } from '../../functions/common/clients.ts';
import { sessionPolicyOf } from '../../functions/common/deps.ts';
import { SessionSweeper } from '../../functions/common/session-sweeper.ts';
import { ddb } from '../support/mocked-clients.ts';
import { unitDeps } from '../support/unit-deps.ts';

describe('Function: cleanupSessions', () => {
  it('deletes expired records and says how many', async () => {
    const { deps } = unitDeps();
    const expired = {
      pool_id: 'acme#acme',
      session_id: 'old',
      created_at: '2026-11-27T08:00:00.000Z',
      last_used_at: '2026-11-27T09:00:00.000Z',
      expires_at: '2026-11-27T10:00:00.000Z',
      state: 'IDLE',
    };
    ddb.on(ScanCommand).resolves({ Items: [expired] });
    const sweeper = new SessionSweeper(
      dynamoDbDocumentClient,
      deps.config.sessionsTableName,
      sessionPolicyOf(deps.config),
      deps.clock,
    );

    await expect(cleanupSessions({ sweeper, telemetry: deps.telemetry })).resolves.toEqual({
      deleted: 1,
    });
  });
});
