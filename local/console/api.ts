import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  type ExecutionListItem,
  type HistoryEvent,
  ListExecutionsCommand,
  paginateGetExecutionHistory,
  SFNClient,
} from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, paginateScan } from '@aws-sdk/lib-dynamodb';
import { taskPayload } from '#common/execution-history';
import { isInternalItem } from '#common/table-keys';
import { buildTimeline } from '../../client/history.ts';
import { type PooledSession, type Query, SpectraClient } from '../../client/index.ts';
import { toPooledSession } from '../../client/records.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../identity.ts';
import { stateGraph } from './graph.ts';
import type { SessionHitRate } from './hit-rate.ts';

/**
 * The console's read-only JSON (`GET /console/api/...`), read from the local stack through the
 * APIs it serves (Step Functions, the sessions table) with the SDK and Spectra's own client, so
 * that a query's states, outcomes and failure read here exactly as `spectra` reports them.
 *
 * - `/executions?status=&tenant=&nextToken=`: a page of executions, newest first
 * - `/executions/<execution ARN>`: one execution: its query, states, events, statement and result,
 *   and for a result in the results bucket a presigned URL that downloads its rows
 * - `/definition`: the state machine's states and transitions, for the graph
 * - `/sessions`: every tenant's pool, and the hit rate over time
 */

export interface ConsoleApiOptions {
  endpoint: string;
  stateMachineArn: string;
  sessionsTableName: string;
  hitRate: SessionHitRate;
}

interface Answer {
  status: number;
  body: unknown;
}

/** A request the API cannot answer as asked: a 400 with what is allowed. */
class BadConsoleRequest extends Error {}

const PAGE_SIZE = 25;
/** How long the console's download link of a written result works. */
const DOWNLOAD_URL_SECONDS = 3600;
const STATUSES = new Set(['RUNNING', 'SUCCEEDED', 'FAILED', 'ABORTED', 'TIMED_OUT']);
const notFound = (message: string): Answer => ({ status: 404, body: { message } });

export class ConsoleApi {
  private readonly sfn: SFNClient;
  private readonly ddb: DynamoDBDocumentClient;
  private readonly client: SpectraClient;

  constructor(private readonly options: ConsoleApiOptions) {
    const config = {
      endpoint: options.endpoint,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
    };
    this.sfn = new SFNClient(config);
    this.ddb = DynamoDBDocumentClient.from(new DynamoDBClient(config));
    this.client = new SpectraClient({
      ...config,
      stateMachineArn: options.stateMachineArn,
      sessionsTableName: options.sessionsTableName,
      sfnClient: this.sfn,
      dynamoDbClient: this.ddb,
    });
  }

  destroy(): void {
    this.client.destroy();
  }

  async answer(path: string, params: URLSearchParams): Promise<Answer> {
    try {
      if (path === '/executions') return { status: 200, body: await this.executions(params) };
      if (path.startsWith('/executions/')) {
        return await this.execution(decodeURIComponent(path.slice('/executions/'.length)));
      }
      if (path === '/definition') return { status: 200, body: await this.definition() };
      if (path === '/sessions') return { status: 200, body: await this.sessions() };
      return notFound(`No console API ${path}`);
    } catch (error) {
      const e = error as Error;
      if (e instanceof BadConsoleRequest) return { status: 400, body: { message: e.message } };
      if (e.name === 'QueryNotFoundError') return notFound(e.message);
      return { status: 500, body: { message: `${e.name}: ${e.message}` } };
    }
  }

  /**
   * Newest first, optionally by status and tenant. ListExecutions filters by status; the tenant
   * is in each execution's input, so a page is read and described until it holds `PAGE_SIZE`.
   */
  private async executions(params: URLSearchParams) {
    const status = params.get('status') || undefined;
    if (status !== undefined && !STATUSES.has(status)) {
      throw new BadConsoleRequest(
        `status must be one of ${[...STATUSES].join(', ')}; got ${JSON.stringify(status)}`,
      );
    }
    const tenant = params.get('tenant') || undefined;
    const rows = [];
    let nextToken = params.get('nextToken') || undefined;
    do {
      const page = await this.sfn.send(
        new ListExecutionsCommand({
          stateMachineArn: this.options.stateMachineArn,
          statusFilter: status as ExecutionListItem['status'],
          maxResults: PAGE_SIZE,
          nextToken,
        }),
      );
      for (const item of page.executions ?? []) {
        const query = await this.client.getQuery(item.executionArn as string);
        if (tenant !== undefined && query.tenantId !== tenant) continue;
        rows.push({
          executionArn: query.executionArn,
          name: query.name,
          status: query.status,
          tenantId: query.tenantId,
          startedAt: query.startedAt,
          stoppedAt: query.stoppedAt,
          durationMs: query.durationMs,
          error: query.error,
          redriveCount: item.redriveCount ?? 0,
        });
      }
      nextToken = page.nextToken;
    } while (nextToken !== undefined && rows.length < PAGE_SIZE);
    return { executions: rows, nextToken };
  }

  private async execution(executionArn: string): Promise<Answer> {
    const query = await this.client.getQuery(executionArn);
    const [described, events] = await Promise.all([
      this.sfn.send(new DescribeExecutionCommand({ executionArn })),
      this.history(executionArn),
    ]);
    return {
      status: 200,
      body: {
        query,
        download: await this.download(query),
        redrive: {
          count: described.redriveCount ?? 0,
          date: described.redriveDate,
          status: described.redriveStatus,
          reason: described.redriveStatusReason,
        },
        timeline: buildTimeline(events),
        statement: statementOf(events),
        events,
      },
    };
  }

  /**
   * A result written to the results bucket is downloaded through a presigned URL of its rows
   * object, served by the stack's S3 on the same port; an expired one says so instead.
   */
  private async download(query: Query) {
    const written = query.result?.result;
    if (query.result === undefined || written === undefined) return undefined;
    try {
      const url = await query.result.presignedUrl({ expiresInSeconds: DOWNLOAD_URL_SECONDS });
      return { url, rows: written.rows, bytes: written.bytes, expiresAt: written.expiresAt };
    } catch (error) {
      return { error: (error as Error).message, expiresAt: written.expiresAt };
    }
  }

  private async history(executionArn: string): Promise<HistoryEvent[]> {
    const events: HistoryEvent[] = [];
    for await (const page of paginateGetExecutionHistory(
      { client: this.sfn },
      { executionArn, includeExecutionData: true },
    )) {
      events.push(...(page.events ?? []));
    }
    return events;
  }

  private async definition() {
    const described = await this.sfn.send(
      new DescribeStateMachineCommand({ stateMachineArn: this.options.stateMachineArn }),
    );
    return stateGraph(JSON.parse(described.definition ?? '{}'));
  }

  /** Every pool in the table, by tenant; the items that are not sessions are left out. */
  private async sessions() {
    const pools = new Map<string, PooledSession[]>();
    for await (const page of paginateScan(
      { client: this.ddb },
      { TableName: this.options.sessionsTableName, ConsistentRead: true },
    )) {
      for (const item of (page.Items ?? []) as { pool_id: string }[]) {
        if (isInternalItem(item)) continue;
        const session = toPooledSession(item as unknown as Record<string, unknown>);
        pools.set(session.tenantId, [...(pools.get(session.tenantId) ?? []), session]);
      }
    }
    return {
      pools: [...pools]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([tenantId, sessions]) => ({
          tenantId,
          sessions: sessions.sort((a, b) => b.lastUsedAt.getTime() - a.lastUsedAt.getTime()),
        })),
      hitRate: { bucketMs: this.options.hitRate.bucketMs, buckets: this.options.hitRate.series() },
    };
  }
}

/**
 * The statement the execution ran and the session it ran on, from the states its steps returned:
 * the last one that names a statement, the session AcquireSession leased (a hit) or none (a
 * miss: Submit Query opened one), and the session the statement ran on, which differs from the
 * leased one when the Data API refused that and Invalidate Session led to a new one.
 */
function statementOf(events: HistoryEvent[]) {
  type Session = { sessionId: string | null; reused: boolean };
  let statementId: string | undefined;
  let acquired: Session | undefined;
  let used: Session | undefined;
  for (const event of events) {
    if (event.type !== 'TaskSucceeded') continue;
    const payload = taskPayload(event) as
      | { statement?: { statementId?: string }; session?: Session }
      | undefined;
    if (payload?.session) {
      acquired ??= payload.session;
      used = payload.session;
    }
    if (payload?.statement?.statementId) statementId = payload.statement.statementId;
  }
  if (acquired === undefined || used === undefined) return undefined;
  return {
    statementId,
    leased: acquired.reused ? acquired.sessionId : null,
    sessionId: used.sessionId,
    sessionReused: used.reused,
  };
}
