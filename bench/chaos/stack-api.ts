import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  type Field,
  GetStatementResultCommand,
  ListSessionsCommand,
  ListStatementsCommand,
  RedshiftDataClient,
  type SessionData,
  type StatementData,
} from '@aws-sdk/client-redshift-data';
import {
  DescribeExecutionCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, paginateScan } from '@aws-sdk/lib-dynamodb';
import type { SessionRecord } from '../../functions/common/session-store.ts';
import type { CountersResponse } from '../../local/test-controls.ts';

/**
 * What the reliability suite needs from a running local stack, over its HTTP endpoint only: the
 * same APIs a user has (Step Functions, the Data API, DynamoDB) plus the `/_spectra/` test
 * controls. Nothing here reaches into the stack's objects, so the checks see what a user sees.
 */

const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
const REGION = 'us-east-1';

/** What GET /_spectra/counters answers. */
export type Counters = CountersResponse;

export interface EndedExecution {
  executionArn: string;
  status: string;
  output?: Record<string, unknown>;
  error?: string;
  cause?: Record<string, unknown>;
  /** The cause when it is not JSON. */
  causeText?: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function parseJson(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed !== null && typeof parsed === 'object'
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** A Data API field as a plain value. */
export function fieldValue(field: Field): unknown {
  if (field.isNull) return null;
  return field.longValue ?? field.stringValue ?? field.booleanValue ?? field.doubleValue;
}

export class StackApi {
  readonly sfn: SFNClient;
  readonly redshiftData: RedshiftDataClient;
  readonly ddb: DynamoDBDocumentClient;

  constructor(
    readonly url: string,
    readonly stateMachineArn: string,
    readonly sessionsTableName: string,
  ) {
    // One attempt: the runner's own calls are never the target of injected faults, and a failure
    // of the harness should show, not be retried away.
    const common = { endpoint: url, region: REGION, credentials: CREDENTIALS, maxAttempts: 1 };
    this.sfn = new SFNClient(common);
    this.redshiftData = new RedshiftDataClient(common);
    this.ddb = DynamoDBDocumentClient.from(new DynamoDBClient(common));
  }

  destroy(): void {
    this.sfn.destroy();
    this.redshiftData.destroy();
    this.ddb.destroy();
  }

  async counters(): Promise<Counters> {
    const response = await fetch(`${this.url}/_spectra/counters`);
    return (await response.json()) as Counters;
  }

  /** POSTs to a test control; throws unless it answers 200. */
  async control(path: string, body: unknown = {}): Promise<Record<string, unknown>> {
    const response = await fetch(`${this.url}/_spectra/${path}`, {
      method: 'POST',
      body: JSON.stringify(body),
    });
    const answer = (await response.json()) as Record<string, unknown>;
    if (response.status !== 200)
      throw new Error(`/_spectra/${path} answered ${response.status}: ${JSON.stringify(answer)}`);
    return answer;
  }

  /** Starts an execution with `input` serialised as is (any JSON value). */
  async start(name: string, input: unknown): Promise<string> {
    const { executionArn } = await this.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: this.stateMachineArn,
        name,
        input: JSON.stringify(input),
      }),
    );
    if (!executionArn) throw new Error('StartExecution returned no executionArn');
    return executionArn;
  }

  async describe(executionArn: string): Promise<EndedExecution> {
    const execution = await this.sfn.send(new DescribeExecutionCommand({ executionArn }));
    const cause = parseJson(execution.cause);
    return {
      executionArn,
      status: execution.status ?? 'UNKNOWN',
      output: parseJson(execution.output),
      error: execution.error,
      cause,
      causeText: cause === undefined ? execution.cause : undefined,
    };
  }

  /** Waits until the execution leaves RUNNING, or returns it still RUNNING at the deadline. */
  async waitForEnd(executionArn: string, deadline: number, pollMs = 100): Promise<EndedExecution> {
    for (;;) {
      const described = await this.describe(executionArn);
      if (described.status !== 'RUNNING' || Date.now() >= deadline) return described;
      await sleep(pollMs);
    }
  }

  async stop(executionArn: string, cause: string): Promise<void> {
    await this.sfn.send(new StopExecutionCommand({ executionArn, error: 'ChaosStop', cause }));
  }

  /** Every session the Data API knows of, in every status. */
  async listSessions(): Promise<SessionData[]> {
    const all: SessionData[] = [];
    for (const status of ['AVAILABLE', 'BUSY', 'CLOSED'] as const) {
      let nextToken: string | undefined;
      do {
        const page = await this.redshiftData.send(
          new ListSessionsCommand({ Status: status, NextToken: nextToken, MaxResults: 1000 }),
        );
        all.push(...(page.Sessions ?? []));
        nextToken = page.NextToken;
      } while (nextToken);
    }
    return all;
  }

  async sessionsWithStatus(status: 'AVAILABLE' | 'BUSY'): Promise<SessionData[]> {
    const page = await this.redshiftData.send(
      new ListSessionsCommand({ Status: status, MaxResults: 1000 }),
    );
    return page.Sessions ?? [];
  }

  /** Every statement the Data API kept, in every status, each once. */
  async listStatements(): Promise<StatementData[]> {
    const all = new Map<string, StatementData>();
    let nextToken: string | undefined;
    do {
      const page = await this.redshiftData.send(
        new ListStatementsCommand({ Status: 'ALL', NextToken: nextToken, MaxResults: 100 }),
      );
      // Pages are offsets into a newest-first list: a statement made meanwhile shifts them.
      for (const statement of page.Statements ?? []) all.set(statement.Id as string, statement);
      nextToken = page.NextToken;
    } while (nextToken);
    return [...all.values()];
  }

  /** Every row of a finished statement's result, page by page. */
  async resultRows(statementId: string): Promise<unknown[][]> {
    const rows: unknown[][] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.redshiftData.send(
        new GetStatementResultCommand({ Id: statementId, NextToken: nextToken }),
      );
      for (const record of page.Records ?? []) rows.push(record.map(fieldValue));
      nextToken = page.NextToken;
    } while (nextToken);
    return rows;
  }

  /** The sessions table as stored (strongly consistent). */
  async sessionRecords(): Promise<SessionRecord[]> {
    const records: SessionRecord[] = [];
    for await (const page of paginateScan(
      { client: this.ddb },
      { TableName: this.sessionsTableName, ConsistentRead: true },
    )) {
      records.push(...((page.Items ?? []) as SessionRecord[]));
    }
    return records;
  }
}
