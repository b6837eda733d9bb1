import {
  DescribeStatementCommand,
  ExecuteStatementCommand,
  type Field,
  GetStatementResultCommand,
  ListSessionsCommand,
  ListStatementsCommand,
  type SessionData,
  type StatementData,
} from '@aws-sdk/client-redshift-data';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { paginateScan } from '@aws-sdk/lib-dynamodb';
import type { SessionRecord } from '../../functions/common/session-record.ts';
import { isInternalItem } from '../../functions/common/table-keys.ts';
import { LOCAL_CLUSTER_IDENTIFIER } from '../../local/identity.ts';
import { StackClient } from '../stack-client.ts';

/**
 * What the reliability suite needs from a running local stack (see {@link StackClient}): its
 * executions, the Data API's sessions and statements, and the sessions table as they are.
 */

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

export class StackApi extends StackClient {
  constructor(
    url: string,
    readonly stateMachineArn: string,
    readonly sessionsTableName: string,
  ) {
    // One attempt: the runner's own calls are never the target of injected faults, and a failure
    // of the harness should show, not be retried away.
    super(url, { maxAttempts: 1 });
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

  /** The Task state the execution is in now (entered, not left), if any. */
  async taskInFlight(executionArn: string): Promise<string | undefined> {
    const { events = [] } = await this.sfn.send(
      new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: 20 }),
    );
    for (const event of events) {
      if (event.type === 'TaskStateExited' || event.type?.startsWith('Execution')) return undefined;
      if (event.type === 'TaskStateEntered') return event.stateEnteredEventDetails?.name;
    }
    return undefined;
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

  /**
   * Runs `sql` on the Data API as `dbUser`, outside Spectra, without a session, and waits for its
   * end: how a check reads what the tenant's queries left in the data.
   */
  async queryAs(
    dbUser: string,
    sql: string,
  ): Promise<{ status: string; error?: string; rows: unknown[][] }> {
    const { Id } = await this.redshiftData.send(
      new ExecuteStatementCommand({
        ClusterIdentifier: LOCAL_CLUSTER_IDENTIFIER,
        Database: 'dev',
        DbUser: dbUser,
        Sql: sql,
      }),
    );
    for (;;) {
      const described = await this.redshiftData.send(
        new DescribeStatementCommand({ Id, WaitTimeSeconds: 30 }),
      );
      const status = described.Status ?? 'UNKNOWN';
      if (status === 'FAILED' || status === 'ABORTED')
        return { status, error: described.Error, rows: [] };
      if (status === 'FINISHED')
        return { status, rows: described.HasResultSet ? await this.resultRows(Id as string) : [] };
    }
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

  /** The pools' session records as stored (strongly consistent), without Spectra's own items. */
  async sessionRecords(): Promise<SessionRecord[]> {
    return (await this.tableItems()).filter(
      (item) => !isInternalItem(item),
    ) as unknown as SessionRecord[];
  }

  /** Every item of the sessions table: the pools' sessions and Spectra's own items. */
  async tableItems(): Promise<
    ({ pool_id: string; session_id: string } & Record<string, unknown>)[]
  > {
    const items: ({ pool_id: string; session_id: string } & Record<string, unknown>)[] = [];
    for await (const page of paginateScan(
      { client: this.documents },
      { TableName: this.sessionsTableName, ConsistentRead: true },
    )) {
      items.push(...((page.Items ?? []) as typeof items));
    }
    return items;
  }
}
