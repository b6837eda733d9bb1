import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { DEFAULT_DB_USER_TEMPLATE, dbUserFor } from '../../functions/common/config.ts';
import { poolIdOf } from '../../functions/common/table-keys.ts';
import {
  createInMemoryDynamoDb,
  createSessionsTable,
} from '../../local/dynamodb/sessions-table.ts';

/** dynalite on a free port with the sessions table created; for tests that run the real store. */
export async function startDynamoDb(tableName: string) {
  const server = createInMemoryDynamoDb();
  const requests: string[] = [];
  server.on('request', (req) => requests.push(String(req.headers['x-amz-target'] ?? '')));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  await createSessionsTable(client, tableName);
  return {
    endpoint,
    client,
    /** `X-Amz-Target` of every request received, in order. */
    requests,
    async close() {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The items of a tenant's pool (default user template), read consistently. */
export async function poolItemsOf(
  ddb: DynamoDBDocumentClient,
  tableName: string,
  tenantId: string,
): Promise<{ session_id: string; state: string; lease_owner?: string }[]> {
  const result = await ddb.send(
    new QueryCommand({
      TableName: tableName,
      KeyConditionExpression: 'pool_id = :p',
      ExpressionAttributeValues: {
        ':p': poolIdOf(tenantId, dbUserFor(tenantId, DEFAULT_DB_USER_TEMPLATE)),
      },
      ConsistentRead: true,
    }),
  );
  return (result.Items ?? []) as { session_id: string; state: string; lease_owner?: string }[];
}
