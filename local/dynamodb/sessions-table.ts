import {
  CreateTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
} from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';

/**
 * The sessions table as the CDK app creates it: partition key `pool_id` (tenant and db user), sort
 * key `session_id`, on demand. dynalite cannot enable TTL (it has no UpdateTimeToLive), which is
 * harmless: Spectra never relies on TTL deletion, it checks expiry on read.
 */
export async function createSessionsTable(
  client: DynamoDBClient,
  tableName: string,
): Promise<void> {
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'pool_id', AttributeType: 'S' },
          { AttributeName: 'session_id', AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: 'pool_id', KeyType: 'HASH' },
          { AttributeName: 'session_id', KeyType: 'RANGE' },
        ],
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
}

/** In memory, with tables ready the moment they are created. */
export const DYNALITE_OPTIONS = { createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 };

/** An in-memory DynamoDB (dynalite) in this thread; the stack runs it on its own (dynamodb-thread.ts). */
export function createInMemoryDynamoDb() {
  return dynalite(DYNALITE_OPTIONS);
}
