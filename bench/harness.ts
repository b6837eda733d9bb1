import { randomUUID } from 'node:crypto';
import { DescribeStatementCommand, ListSessionsCommand } from '@aws-sdk/client-redshift-data';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  ListExecutionsCommand,
  type SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { BatchWriteCommand, paginateScan } from '@aws-sdk/lib-dynamodb';
import type { CountersResponse } from '../local/test-controls.ts';
import { STATES } from '../statemachine/definition.ts';
import { StackClient } from './stack-client.ts';

/**
 * The benchmark's side of the local stack: it drives the stack as a user would (see
 * {@link StackClient}), starting executions and reading back their descriptions and histories.
 */

/** The part of what GET /_spectra/counters answers that the benchmark reads. */
export type Counters = Pick<CountersResponse, 'calls' | 'lambdaInvocations'> & {
  redshiftData: Pick<
    CountersResponse['redshiftData'],
    'statementsSubmitted' | 'sessionsOpened' | 'busyRejections'
  >;
};

/** The requests made between two counter snapshots. */
export interface CounterDelta {
  lambdaInvocations: number;
  dynamodbRequests: number;
  dataApiRequests: number;
  statementsSubmitted: number;
  sessionsOpened: number;
  busyRejections: number;
  /** Per operation (`DynamoDB_20120810.Query`, `RedshiftData.ExecuteStatement`, ...). */
  byOperation: Record<string, number>;
}

const sumWhere = (map: Record<string, number>, keep: (key: string) => boolean) =>
  Object.entries(map).reduce((sum, [key, value]) => (keep(key) ? sum + value : sum), 0);

export function counterDelta(before: Counters, after: Counters): CounterDelta {
  const byOperation: Record<string, number> = {};
  for (const [key, value] of Object.entries(after.calls)) {
    const delta = value - (before.calls[key] ?? 0);
    if (delta !== 0 && !key.startsWith('AWSStepFunctions.')) byOperation[key] = delta;
  }
  const invocations =
    sumWhere(after.lambdaInvocations, () => true) - sumWhere(before.lambdaInvocations, () => true);
  return {
    lambdaInvocations: invocations,
    dynamodbRequests: sumWhere(byOperation, (key) => key.startsWith('DynamoDB_20120810.')),
    dataApiRequests: sumWhere(byOperation, (key) => key.startsWith('RedshiftData.')),
    statementsSubmitted:
      after.redshiftData.statementsSubmitted - before.redshiftData.statementsSubmitted,
    sessionsOpened: after.redshiftData.sessionsOpened - before.redshiftData.sessionsOpened,
    busyRejections: after.redshiftData.busyRejections - before.redshiftData.busyRejections,
    byOperation,
  };
}

/** The output of a succeeded execution, as far as the benchmark reads it. */
export interface QueryOutput {
  statementId: string;
  sessionId: string | null;
  sessionReused: boolean;
}

/** One execution, ended, with what its description and history say. */
export interface ExecutionRecord {
  executionArn: string;
  status: string;
  startMs: number;
  stopMs: number;
  latencyMs: number;
  output?: QueryOutput;
  error?: string;
  /** `*StateEntered` events: what Step Functions bills as state transitions. */
  transitions: number;
  /** Names of the states entered, in order. */
  states: string[];
  /** Lambda attempts beyond the first of each Task (Retry). */
  taskRetries: number;
  /** Errors of the failed Lambda attempts, by name. */
  taskErrors: Record<string, number>;
  /** When the execution entered `Release Session`: it left the poll loop. */
  releaseEnteredMs?: number;
  /** Events in its history (Step Functions keeps at most 25,000). */
  historyEvents: number;
  /** Each Lambda invocation: the function (its ARN's `spectra-<name>`) and how long it ran. */
  invocations: { functionArn: string; ms: number }[];
  /** Time spent in each state (entered to exited, every entry summed), by state name. */
  stateMs: Record<string, number>;
  /** What Acquire Session left for Submit Query (see {@link acquireOutcomeOf}). */
  acquired?: AcquireOutcome;
}

/**
 * How Acquire Session ended: a session leased from the pool; slots reserved for a new session with
 * every session of the pool leased (Submit Query races a session given back against the new one)
 * or with none in the pool; or no slots (the query runs without a session).
 */
export type AcquireOutcome = 'leased' | 'race' | 'open' | 'sessionless';

export function acquireOutcomeOf(output: string | undefined): AcquireOutcome | undefined {
  if (output === undefined) return undefined;
  const session = (JSON.parse(output) as { session?: Record<string, unknown> }).session;
  if (session === undefined) return undefined;
  if (typeof session.sessionId === 'string') return 'leased';
  if (session.reservation === undefined) return 'sessionless';
  return session.sessionsLeased === true ? 'race' : 'open';
}

export function summarizeHistory(events: HistoryEvent[]) {
  const states: string[] = [];
  const invocations: ExecutionRecord['invocations'] = [];
  let running: { functionArn: string; at: number } | undefined;
  let scheduled = 0;
  let tasksEntered = 0;
  let releaseEnteredMs: number | undefined;
  let acquired: AcquireOutcome | undefined;
  const taskErrors: Record<string, number> = {};
  const stateMs: Record<string, number> = {};
  const enteredAt = new Map<string, number>();
  for (const event of events) {
    const type = event.type ?? '';
    const at = event.timestamp?.getTime() ?? Number.NaN;
    if (type.endsWith('StateExited')) {
      const name = event.stateExitedEventDetails?.name ?? '';
      const entered = enteredAt.get(name);
      if (entered !== undefined) stateMs[name] = (stateMs[name] ?? 0) + (at - entered);
      if (name === STATES.acquire)
        acquired = acquireOutcomeOf(event.stateExitedEventDetails?.output);
    }
    if (type.endsWith('StateEntered')) {
      const name = event.stateEnteredEventDetails?.name ?? '';
      states.push(name);
      enteredAt.set(name, at);
      if (type === 'TaskStateEntered') tasksEntered++;
      if (name === STATES.release && releaseEnteredMs === undefined)
        releaseEnteredMs = event.timestamp?.getTime();
    }
    if (type === 'TaskScheduled') {
      scheduled++;
      const parameters = JSON.parse(event.taskScheduledEventDetails?.parameters ?? '{}');
      running = {
        functionArn: String(parameters.FunctionName ?? ''),
        at: event.timestamp?.getTime() ?? 0,
      };
    }
    if ((type === 'TaskSucceeded' || type === 'TaskFailed') && running) {
      invocations.push({
        functionArn: running.functionArn,
        ms: (event.timestamp?.getTime() ?? running.at) - running.at,
      });
      running = undefined;
    }
    if (type === 'TaskFailed') {
      const error = event.taskFailedEventDetails?.error ?? 'unknown';
      taskErrors[error] = (taskErrors[error] ?? 0) + 1;
    }
  }
  return {
    transitions: states.length,
    states,
    taskRetries: scheduled - tasksEntered,
    taskErrors,
    releaseEnteredMs,
    historyEvents: events.length,
    invocations,
    stateMs,
    acquired,
  };
}

/**
 * Waits for many executions with one ListExecutions(RUNNING) call per state machine per tick,
 * instead of one DescribeExecution per execution per tick: the benchmark shares the machine with
 * what it measures, and polling sixteen executions one by one would take CPU from them.
 */
class ExecutionWatcher {
  private readonly waiting = new Map<string, { machine: string; done: () => void }>();
  private running = false;

  constructor(
    private readonly sfn: SFNClient,
    private readonly intervalMs: number,
  ) {}

  wait(machine: string, executionArn: string): Promise<void> {
    return new Promise((done) => {
      this.waiting.set(executionArn, { machine, done });
      if (!this.running) void this.loop();
    });
  }

  private async loop(): Promise<void> {
    this.running = true;
    try {
      while (this.waiting.size > 0) {
        await new Promise((resolve) => setTimeout(resolve, this.intervalMs));
        const machines = new Set([...this.waiting.values()].map((entry) => entry.machine));
        for (const machine of machines) {
          const running = await this.runningOf(machine);
          for (const [arn, entry] of this.waiting) {
            if (entry.machine === machine && !running.has(arn)) {
              this.waiting.delete(arn);
              entry.done();
            }
          }
        }
      }
    } finally {
      this.running = false;
    }
  }

  private async runningOf(machine: string): Promise<Set<string>> {
    const arns = new Set<string>();
    let nextToken: string | undefined;
    do {
      const page = await this.sfn.send(
        new ListExecutionsCommand({
          stateMachineArn: machine,
          statusFilter: 'RUNNING',
          maxResults: 1000,
          nextToken,
        }),
      );
      for (const execution of page.executions ?? []) arns.add(execution.executionArn as string);
      nextToken = page.nextToken;
    } while (nextToken);
    return arns;
  }
}

export class Harness extends StackClient {
  private readonly watcher: ExecutionWatcher;

  constructor(
    url: string,
    readonly tableName: string,
    pollIntervalMs = 20,
  ) {
    super(url);
    this.watcher = new ExecutionWatcher(this.sfn, pollIntervalMs);
  }

  async setLatency(target: string, ms: number): Promise<void> {
    await this.control('latency', { target, ms });
  }

  /** Starts an execution and waits for it to end; returns its ARN. */
  async run(stateMachineArn: string, input: unknown): Promise<string> {
    const { executionArn } = await this.sfn.send(
      new StartExecutionCommand({
        stateMachineArn,
        name: randomUUID(),
        input: JSON.stringify(input),
      }),
    );
    if (!executionArn) throw new Error('StartExecution returned no executionArn');
    await this.watcher.wait(stateMachineArn, executionArn);
    return executionArn;
  }

  /** An ended execution's description and history, read back over the API. */
  async record(executionArn: string): Promise<ExecutionRecord> {
    const described = await this.sfn.send(new DescribeExecutionCommand({ executionArn }));
    const events: HistoryEvent[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.sfn.send(
        new GetExecutionHistoryCommand({ executionArn, maxResults: 1000, nextToken }),
      );
      events.push(...(page.events ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    const startMs = described.startDate?.getTime() ?? Number.NaN;
    const stopMs = described.stopDate?.getTime() ?? Number.NaN;
    return {
      executionArn,
      status: described.status ?? 'UNKNOWN',
      startMs,
      stopMs,
      latencyMs: stopMs - startMs,
      output: described.output ? (JSON.parse(described.output) as QueryOutput) : undefined,
      error: described.error,
      ...summarizeHistory(events),
    };
  }

  /** When the Data API says the statement ended (DescribeStatement's UpdatedAt), in ms. */
  async statementEndedMs(statementId: string): Promise<number> {
    const described = await this.redshiftData.send(
      new DescribeStatementCommand({ Id: statementId }),
    );
    if (!described.UpdatedAt) throw new Error(`DescribeStatement ${statementId} has no UpdatedAt`);
    return described.UpdatedAt.getTime();
  }

  /**
   * Creates each tenant's database user (`POST /_spectra/db-users`) before the measurements, as a
   * deployment creates its tenants' users before their first query.
   */
  async createTenantUsers(tenantIds: string[]): Promise<void> {
    for (const tenantId of tenantIds) await this.control('db-users', { tenantId });
  }

  /**
   * Starts the next variant from nothing: the Data API closes every open session and the sessions
   * table is emptied, so no variant inherits another's warm sessions.
   */
  /**
   * Every Data API session opened at or after `sinceMs` (epoch ms), in every status, with when it
   * opened and when it closed (now, for one still open).
   */
  async sessionsOpenedSince(
    sinceMs: number,
  ): Promise<{ dbUser: string; openedMs: number; closedMs: number }[]> {
    const now = Date.now();
    const sessions: { dbUser: string; openedMs: number; closedMs: number }[] = [];
    for (const status of ['AVAILABLE', 'BUSY', 'CLOSED'] as const) {
      let nextToken: string | undefined;
      do {
        const page = await this.redshiftData.send(
          new ListSessionsCommand({ Status: status, NextToken: nextToken, MaxResults: 1000 }),
        );
        for (const session of page.Sessions ?? []) {
          const openedMs = session.CreatedAt?.getTime() ?? 0;
          if (openedMs < sinceMs) continue;
          const closedMs = status === 'CLOSED' ? (session.SessionTtl?.getTime() ?? now) : now;
          sessions.push({ dbUser: session.DbUser ?? '', openedMs, closedMs });
        }
        nextToken = page.NextToken;
      } while (nextToken);
    }
    return sessions;
  }

  async coldStart(): Promise<void> {
    let nextToken: string | undefined;
    const sessionIds: string[] = [];
    do {
      const page = await this.redshiftData.send(new ListSessionsCommand({ NextToken: nextToken }));
      for (const session of page.Sessions ?? [])
        if (session.SessionId) sessionIds.push(session.SessionId);
      nextToken = page.NextToken;
    } while (nextToken);
    for (const sessionId of sessionIds) {
      await this.control('sessions/expire', { sessionId });
    }
    const keys: Record<string, unknown>[] = [];
    for await (const page of paginateScan(
      { client: this.documents },
      { TableName: this.tableName, ProjectionExpression: 'pool_id, session_id' },
    )) {
      keys.push(...(page.Items ?? []));
    }
    for (let index = 0; index < keys.length; index += 25) {
      await this.documents.send(
        new BatchWriteCommand({
          RequestItems: {
            [this.tableName]: keys
              .slice(index, index + 25)
              .map((key) => ({ DeleteRequest: { Key: key } })),
          },
        }),
      );
    }
  }
}
