import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../client/index.ts';
import { ddb } from '../../support/mocked-clients.ts';
import * as fx from './fixtures.ts';

/**
 * SpectraClient.listSessions against a mocked DynamoDB: a tenant's session pool as the sessions
 * table holds it.
 */

describe('Class: SpectraClient', () => {
  describe('Method: listSessions', () => {
    it("reads the tenant's pool strongly consistent, page by page, the most recently used first", async () => {
      // Prepare
      const item = (id: string, lastUsed: string, fields: Record<string, unknown> = {}) => ({
        pool_id: 'acme#app_acme',
        session_id: id,
        tenant_id: 'acme',
        db_user: 'app_acme',
        state: 'IDLE',
        created_at: '2026-11-28T11:00:00.000Z',
        last_used_at: lastUsed,
        expires_at: '2026-11-28T13:00:00.000Z',
        ttl: 1_795_000_000,
        ...fields,
      });
      ddb
        .on(QueryCommand, { ExclusiveStartKey: undefined })
        .resolves({
          Items: [item('sess-old', '2026-11-28T11:10:00.000Z')],
          LastEvaluatedKey: { pool_id: 'acme#app_acme', session_id: 'sess-old' },
        })
        .on(QueryCommand, {
          ExclusiveStartKey: { pool_id: 'acme#app_acme', session_id: 'sess-old' },
        })
        .resolves({
          Items: [
            item('sess-new', '2026-11-28T11:50:00.000Z', {
              state: 'LEASED',
              lease_owner: fx.EXECUTION_ARN,
              lease_expires_at: '2026-11-28T11:55:00.000Z',
            }),
          ],
        });

      // Act
      const sessions = await fx.newClient().listSessions('acme');

      // Assess
      expect(ddb).toReceiveCommandWith(QueryCommand, {
        TableName: 'sessions-table',
        KeyConditionExpression: 'pool_id = :pool',
        ExpressionAttributeValues: { ':pool': 'acme#app_acme' },
        ConsistentRead: true,
      });
      expect(sessions).toEqual([
        {
          id: 'sess-new',
          tenantId: 'acme',
          dbUser: 'app_acme',
          state: 'LEASED',
          createdAt: new Date('2026-11-28T11:00:00.000Z'),
          lastUsedAt: new Date('2026-11-28T11:50:00.000Z'),
          expiresAt: new Date('2026-11-28T13:00:00.000Z'),
          leaseOwner: fx.EXECUTION_ARN,
          leaseExpiresAt: new Date('2026-11-28T11:55:00.000Z'),
        },
        expect.objectContaining({ id: 'sess-old', state: 'IDLE' }),
      ]);
    });

    it('throws InvalidInputError for a tenant id that cannot exist', async () => {
      await expect(fx.newClient().listSessions('ACME#x')).rejects.toThrow(InvalidInputError);
      expect(ddb.calls()).toHaveLength(0);
    });
  });
});
