import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DeleteCommandInput,
  type DynamoDBDocumentClient,
  PutCommand,
  type PutCommandInput,
  paginateQuery,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { rethrowTransient } from './errors.ts';

/**
 * The reads and writes of the sessions table, each one request: every write is conditional, and
 * a condition that does not hold (another writer got there first, which every caller expects and
 * handles) answers undefined instead of throwing; any other failure is rethrown as
 * {@link rethrowTransient} says, named by `operation`. The pool, its slots and the sweep all go
 * through here, so that this rule has one home.
 */

/** A request's input without the table, which {@link SessionsTable} adds. */
type Input<T> = Omit<T, 'TableName'>;

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

export type TableWrite =
  | { Put: Input<PutCommandInput> }
  | { Update: Input<UpdateCommandInput> }
  | { Delete: Input<DeleteCommandInput> };

/** What a write answers: the item before or after it, when the write asked for it. */
export interface WriteAnswer {
  Attributes?: Record<string, unknown>;
}

/** The sessions table: its conditional writes and its partition reads. */
export class SessionsTable {
  constructor(
    readonly ddb: DynamoDBDocumentClient,
    readonly name: string,
  ) {}

  /**
   * One conditional write, named as a transaction names its parts (`{ Put }`, `{ Update }`,
   * `{ Delete }`); what DynamoDB answered, or undefined when the condition did not hold.
   */
  write(request: TableWrite, operation: string): Promise<WriteAnswer | undefined> {
    const send =
      'Put' in request
        ? () => this.ddb.send(new PutCommand({ ...request.Put, TableName: this.name }))
        : 'Update' in request
          ? () => this.ddb.send(new UpdateCommand({ ...request.Update, TableName: this.name }))
          : () => this.ddb.send(new DeleteCommand({ ...request.Delete, TableName: this.name }));
    return conditionalWrite<WriteAnswer>(send, operation);
  }

  /**
   * Every item of one partition, strongly consistent. `placeholder`: the name its value goes
   * under in the key condition.
   */
  async query<T>(
    partition: { placeholder: string; value: string },
    operation: string,
  ): Promise<T[]> {
    const items: T[] = [];
    try {
      const pages = paginateQuery(
        { client: this.ddb },
        {
          TableName: this.name,
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
}
