import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DeleteCommandOutput,
  type DynamoDBDocumentClient,
  PutCommand,
  type PutCommandOutput,
  paginateQuery,
  UpdateCommand,
  type UpdateCommandOutput,
} from '@aws-sdk/lib-dynamodb';
import { rethrowTransient } from './errors.ts';

/**
 * The reads and writes of the sessions table, each one request: every write is conditional, and
 * a condition that does not hold (another writer got there first, which every caller expects and
 * handles) answers undefined instead of throwing; any other failure is rethrown as
 * {@link rethrowTransient} says, named by `operation`. The pool, its slots and the sweep all go
 * through here, so that this rule has one home.
 */

type InputOf<Command extends abstract new (...args: never[]) => unknown> = Omit<
  ConstructorParameters<Command>[0],
  'TableName'
>;

/** Sends one conditional write; its answer, or undefined when its condition did not hold. */
export async function conditionalWrite<T>(
  send: () => Promise<T>,
  operation: string,
): Promise<T | undefined> {
  try {
    return await send();
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return undefined;
    return rethrowTransient(error, operation);
  }
}

export const putItem = (
  ddb: DynamoDBDocumentClient,
  tableName: string,
  input: InputOf<typeof PutCommand>,
  operation: string,
): Promise<PutCommandOutput | undefined> =>
  conditionalWrite(() => ddb.send(new PutCommand({ TableName: tableName, ...input })), operation);

export const updateItem = (
  ddb: DynamoDBDocumentClient,
  tableName: string,
  input: InputOf<typeof UpdateCommand>,
  operation: string,
): Promise<UpdateCommandOutput | undefined> =>
  conditionalWrite(
    () => ddb.send(new UpdateCommand({ TableName: tableName, ...input })),
    operation,
  );

export const deleteItem = (
  ddb: DynamoDBDocumentClient,
  tableName: string,
  input: InputOf<typeof DeleteCommand>,
  operation: string,
): Promise<DeleteCommandOutput | undefined> =>
  conditionalWrite(
    () => ddb.send(new DeleteCommand({ TableName: tableName, ...input })),
    operation,
  );

/**
 * Every item of one partition, strongly consistent. `placeholder`: the name its value goes under
 * in the key condition.
 */
export async function queryPartition<T>(
  ddb: DynamoDBDocumentClient,
  tableName: string,
  partition: { placeholder: string; value: string },
  operation: string,
): Promise<T[]> {
  const items: T[] = [];
  try {
    const pages = paginateQuery(
      { client: ddb },
      {
        TableName: tableName,
        KeyConditionExpression: `pool_id = ${partition.placeholder}`,
        ExpressionAttributeValues: { [partition.placeholder]: partition.value },
        ConsistentRead: true,
      },
    );
    for await (const page of pages) items.push(...((page.Items ?? []) as T[]));
  } catch (error) {
    rethrowTransient(error, operation);
  }
  return items;
}
