import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  RedriveExecutionCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { dbUserFor } from '#common/config';
import { INPUT_RULES, parseExecutionInput, tenantIdOf } from '#common/execution-input';
import { poolIdOf } from '#common/table-keys';
import { consoleUrl } from '../local/identity.ts';
import { resolveSettings } from './connection.ts';
import {
  ExecutionNameTakenError,
  InvalidInputError,
  isLoopbackUrl,
  QueryExecutionError,
  QueryNotFinishedError,
  QueryNotRedrivableError,
} from './errors.ts';
import { buildTimeline, currentStateOf, type StateVisit } from './history.ts';
import { delay, isFinalStatus, pollGaps } from './polling.ts';
import {
  canonicalJson,
  executionArnOf,
  failureOf,
  parseJsonObject,
  queryOf,
  toPooledSession,
} from './records.ts';
import { type ReadableResult, ResultRows } from './result-rows.ts';
import { clientErrorOf } from './sdk-errors.ts';
import type {
  CancelledQuery,
  PooledSession,
  Query,
  RedrivenQuery,
  SpectraClientOptions,
  SubmitQueryRequest,
  SubmittedQuery,
  SucceededQuery,
  WaitOptions,
} from './types.ts';

/**
 * The Spectra client: submits a tenant's SQL to the `spectra-query` state machine and reads the
 * query back from the execution (status, result, the states it passed), and reads a tenant's
 * session pool from the sessions table.
 *
 * Region, credentials and endpoint come from the standard AWS environment (`AWS_REGION`,
 * `AWS_PROFILE`, `AWS_ENDPOINT_URL`, ...), resolved by the SDK as for any AWS tool.
 */

/** Enough of the newest events to contain the last `…StateEntered` (a Task adds 3-4 after it). */
const RECENT_EVENTS = 25;
/** Step Functions' rule for names: no spaces, brackets, wildcards, those marks or controls (Cc). */
const EXECUTION_NAME = /^[^\s<>{}[\]?*"#%\\^|~`$&,;:/\p{Cc}]{1,80}$/u;

export class SpectraClient {
  readonly stateMachineArn: string;
  readonly sessionsTableName: string;
  readonly dbUserTemplate: string;
  /** Where requests go when not to AWS itself (option, `AWS_ENDPOINT_URL`, or the local stack). */
  readonly endpoint: string | undefined;
  private readonly sfn: SFNClient;
  private readonly dynamoDb: DynamoDBDocumentClient;
  private readonly s3: S3Client;
  private readonly results: ResultRows;

  constructor(options: SpectraClientOptions = {}) {
    const settings = resolveSettings(options);
    this.stateMachineArn = settings.stateMachineArn;
    this.sessionsTableName = settings.sessionsTableName;
    this.dbUserTemplate = settings.dbUserTemplate;
    this.endpoint = settings.endpoint;
    this.sfn = options.sfnClient ?? new SFNClient(settings.sdk);
    this.dynamoDb =
      options.dynamoDbClient ?? DynamoDBDocumentClient.from(new DynamoDBClient(settings.sdk));
    // The local stack serves S3 by path; a loopback name such as localhost would otherwise be
    // addressed as <bucket>.localhost.
    this.s3 =
      options.s3Client ??
      new S3Client({
        ...settings.sdk,
        forcePathStyle: settings.endpoint !== undefined && isLoopbackUrl(settings.endpoint),
      });
    this.results = new ResultRows(this.s3, options.clock ?? (() => new Date()));
  }

  /** Releases the clients' sockets, so a short-lived process can exit at once. */
  destroy(): void {
    this.sfn.destroy();
    this.dynamoDb.destroy();
    this.s3.destroy();
  }

  /**
   * Starts a query. The input is checked here with the state machine's own rules, so bad input
   * fails at once with the message the execution would have failed with.
   *
   * @throws {InvalidInputError} when the input or the name is not allowed.
   * @throws {ExecutionNameTakenError} when `name` is used by an execution with other input.
   */
  async submitQuery(request: SubmitQueryRequest): Promise<SubmittedQuery> {
    const { name, ...fields } = request;
    let input: ReturnType<typeof parseExecutionInput>;
    try {
      input = parseExecutionInput(fields);
    } catch (error) {
      throw new InvalidInputError((error as Error).message, { cause: error });
    }
    if (name !== undefined && !EXECUTION_NAME.test(name)) {
      throw new InvalidInputError(
        `Invalid input: name must be 1-80 characters without spaces, brackets, wildcards or punctuation such as "/:;,$&#%"; got ${JSON.stringify(name)}`,
      );
    }
    const inputText = JSON.stringify(input);
    try {
      const started = await this.sfn.send(
        new StartExecutionCommand({
          stateMachineArn: this.stateMachineArn,
          name,
          input: inputText,
        }),
      );
      return { executionArn: started.executionArn as string };
    } catch (error) {
      if (name === undefined || (error as Error).name !== 'ExecutionAlreadyExists') {
        throw this.translate(error);
      }
      // On AWS a name stays taken for 90 days after its execution ends; the same input under the
      // same name is the same query, so hand back that execution.
      const executionArn = executionArnOf(this.stateMachineArn, name);
      const existing = await this.describe(executionArn);
      if (
        existing.input !== undefined &&
        canonicalJson(parseJsonObject(existing.input)) === canonicalJson(input)
      ) {
        return { executionArn };
      }
      throw new ExecutionNameTakenError(name, executionArn, { cause: error });
    }
  }

  /**
   * The query as the execution reports it now.
   *
   * @throws {QueryNotFoundError} when the ARN is malformed or no such execution exists.
   */
  async getQuery(executionArn: string, signal?: AbortSignal): Promise<Query> {
    return queryOf(executionArn, await this.describe(executionArn, signal), (result) =>
      this.results.readable(executionArn, result),
    );
  }

  /**
   * Polls until the query ends and resolves with it, whatever its status: a failed query is a
   * result here, not an error (see {@link runQuery} for that). Aborting `signal` rejects with its
   * reason and leaves the query running.
   *
   * @throws {QueryNotFoundError} when the ARN is malformed or no such execution exists.
   */
  async waitForQuery(executionArn: string, options: WaitOptions = {}): Promise<Query> {
    const { signal, onProgress } = options;
    const gaps = pollGaps(options.pollIntervalMs);
    for (;;) {
      signal?.throwIfAborted();
      const query = await this.getQuery(executionArn, signal);
      if (isFinalStatus(query.status)) return query;
      if (onProgress) {
        const state = await this.currentState(executionArn, signal);
        onProgress({
          status: query.status,
          state,
          elapsedMs: Math.max(0, Date.now() - query.startedAt.getTime()),
        });
      }
      await delay(gaps.next().value, signal);
    }
  }

  /**
   * Submits, waits, and returns the query once it succeeded.
   *
   * @throws {QueryExecutionError} when it ends FAILED, ABORTED or TIMED_OUT, with the error name
   *   and cause the execution reported.
   */
  async runQuery(request: SubmitQueryRequest, options: WaitOptions = {}): Promise<SucceededQuery> {
    const { executionArn } = await this.submitQuery(request);
    const query = await this.waitForQuery(executionArn, options);
    return this.succeededOrThrow(query);
  }

  /**
   * The result of a query that ended.
   *
   * @throws {QueryNotFinishedError} while it runs.
   * @throws {QueryExecutionError} when it did not succeed.
   */
  async getResult(executionArn: string): Promise<ReadableResult> {
    const query = await this.getQuery(executionArn);
    if (!isFinalStatus(query.status)) throw new QueryNotFinishedError(executionArn);
    return this.succeededOrThrow(query).result;
  }

  private succeededOrThrow(query: Query): SucceededQuery {
    if (query.status === 'SUCCEEDED' && query.result !== undefined) return query as SucceededQuery;
    const failure = failureOf(query) ?? { errorName: 'QueryFailedError', message: 'No result' };
    throw new QueryExecutionError(query.executionArn, query.status, failure.errorName, {
      ...query.cause,
      message: failure.message,
    });
  }

  /**
   * The states the execution passed, in order, with their timing and outcome, from its full
   * history (every page).
   *
   * @throws {QueryNotFoundError} when the ARN is malformed or no such execution exists.
   */
  async getHistory(executionArn: string): Promise<StateVisit[]> {
    const events: HistoryEvent[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.send(
        () =>
          this.sfn.send(
            new GetExecutionHistoryCommand({
              executionArn,
              nextToken,
              maxResults: 1000,
              includeExecutionData: false,
            }),
          ),
        executionArn,
      );
      events.push(...(page.events ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    return buildTimeline(events);
  }

  private async currentState(
    executionArn: string,
    signal: AbortSignal | undefined,
  ): Promise<string | undefined> {
    const page = await this.send(
      () =>
        this.sfn.send(
          new GetExecutionHistoryCommand({
            executionArn,
            reverseOrder: true,
            maxResults: RECENT_EVENTS,
            includeExecutionData: false,
          }),
          { abortSignal: signal },
        ),
      executionArn,
      signal,
    );
    return currentStateOf(page.events ?? []);
  }

  /**
   * The tenant's session pool, read strongly consistent: every session record, the most recently
   * used first. Records of sessions the Data API has closed stay until the cleanup deletes them;
   * compare `expiresAt` with the time to tell.
   *
   * @throws {InvalidInputError} when the tenant id is not a valid one.
   */
  async listSessions(tenantId: string): Promise<PooledSession[]> {
    if (tenantIdOf({ tenantId }) === undefined) {
      throw new InvalidInputError(
        `Invalid input: tenantId must be ${INPUT_RULES.tenantId}; got ${JSON.stringify(tenantId)}`,
      );
    }
    const dbUser = dbUserFor(tenantId, this.dbUserTemplate);
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.send(() =>
        this.dynamoDb.send(
          new QueryCommand({
            TableName: this.sessionsTableName,
            KeyConditionExpression: 'pool_id = :pool',
            ExpressionAttributeValues: { ':pool': poolIdOf(tenantId, dbUser) },
            ConsistentRead: true,
            ExclusiveStartKey: startKey,
          }),
        ),
      );
      items.push(...((page.Items ?? []) as Record<string, unknown>[]));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return items
      .map((item) => toPooledSession(item))
      .sort((a, b) => b.lastUsedAt.getTime() - a.lastUsedAt.getTime());
  }

  /**
   * Stops the execution (StopExecution). Its statement is cancelled and its session released by
   * the deployment's clean-up of stopped executions. Stopping a query that already ended changes
   * nothing and reports the status it ended with.
   *
   * @throws {QueryNotFoundError} when the ARN is malformed or no such execution exists.
   */
  async cancelQuery(
    executionArn: string,
    reason: { error?: string; cause?: string } = {},
  ): Promise<CancelledQuery> {
    const before = await this.describe(executionArn);
    if (before.status !== 'RUNNING') {
      return { executionArn, status: before.status ?? 'RUNNING', stopped: false };
    }
    await this.send(
      () => this.sfn.send(new StopExecutionCommand({ executionArn, ...reason })),
      executionArn,
    );
    // It may have ended on its own between the two calls; then there was nothing to stop.
    const after = await this.describe(executionArn);
    const status = after.status ?? 'ABORTED';
    return { executionArn, status, stopped: status === 'ABORTED' };
  }

  /**
   * Runs a FAILED, ABORTED or TIMED_OUT query again under the same ARN (RedriveExecution), from
   * the step that did not finish: the steps that finished are not run again, so a statement that
   * finished is read, not run twice. Returns at once; wait for the query as after submitting it.
   * `clientToken` makes a retried call redrive once.
   *
   * @throws {QueryNotRedrivableError} when the query is running or succeeded, or ended too long ago.
   * @throws {QueryNotFoundError} when the ARN is malformed or no such execution exists.
   */
  async redriveQuery(
    executionArn: string,
    options: { clientToken?: string } = {},
  ): Promise<RedrivenQuery> {
    try {
      const redriven = await this.sfn.send(
        new RedriveExecutionCommand({ executionArn, clientToken: options.clientToken }),
      );
      return { executionArn, redrivenAt: redriven.redriveDate ?? new Date() };
    } catch (error) {
      if (error instanceof Error && error.name === 'ExecutionNotRedrivable') {
        throw new QueryNotRedrivableError(executionArn, error.message, { cause: error });
      }
      throw this.translate(error, executionArn);
    }
  }

  /**
   * The local console's page for the execution, when this client talks to a local stack (a
   * loopback endpoint); undefined against AWS, whose console has its own addresses.
   */
  consoleLink(executionArn: string): string | undefined {
    return this.endpoint !== undefined && isLoopbackUrl(this.endpoint)
      ? consoleUrl(this.endpoint, executionArn)
      : undefined;
  }

  private describe(
    executionArn: string,
    signal?: AbortSignal,
  ): Promise<DescribeExecutionCommandOutput> {
    return this.send(
      () => this.sfn.send(new DescribeExecutionCommand({ executionArn }), { abortSignal: signal }),
      executionArn,
      signal,
    );
  }

  /** Runs one SDK call and turns its errors into the client's own. */
  private async send<T>(
    call: () => Promise<T>,
    executionArn?: string,
    signal?: AbortSignal,
  ): Promise<T> {
    try {
      return await call();
    } catch (error) {
      // An aborted request fails with the SDK's own AbortError; the caller's reason is the answer.
      if (signal?.aborted) throw signal.reason;
      throw this.translate(error, executionArn);
    }
  }

  private translate(error: unknown, executionArn?: string): unknown {
    return clientErrorOf(error, this, executionArn);
  }
}
