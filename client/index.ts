import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  type ExecutionStatus,
  GetExecutionHistoryCommand,
  type HistoryEvent,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { AwsCredentialIdentity } from '@smithy/types';
import { dbUserFor } from '#common/config';
import { INPUT_LIMITS, parseExecutionInput, type SqlParameter } from '#common/schemas';
import type { QueryResult } from '../functions/fetch-results.ts';
import {
  LOCAL_ACCOUNT,
  LOCAL_CREDENTIALS,
  LOCAL_ENDPOINT,
  LOCAL_SESSIONS_TABLE_NAME,
  LOCAL_STATE_MACHINE_ARN,
} from '../local/identity.ts';
import {
  connectionErrorCode,
  ExecutionNameTakenError,
  InvalidInputError,
  isLoopbackUrl,
  QueryExecutionError,
  type QueryFailureCause,
  QueryNotFinishedError,
  QueryNotFoundError,
  SpectraClientError,
  SpectraConnectionError,
  StateMachineNotFoundError,
} from './errors.ts';
import { buildTimeline, currentStateOf, type StateVisit } from './history.ts';

export * from './errors.ts';
export type { StateOutcome, StateVisit } from './history.ts';
export type { QueryResult, SqlParameter };

/**
 * The Spectra client: submits a tenant's SQL to the `spectra-query` state machine and reads the
 * query back from the execution (status, result, the states it passed), and reads a tenant's
 * session pool from the sessions table.
 *
 * Region, credentials and endpoint come from the standard AWS environment (`AWS_REGION`,
 * `AWS_PROFILE`, `AWS_ENDPOINT_URL`, ...), resolved by the SDK as for any AWS tool.
 */

export { LOCAL_ENDPOINT, LOCAL_STATE_MACHINE_ARN };
export const DEFAULT_SESSIONS_TABLE_NAME = LOCAL_SESSIONS_TABLE_NAME;
const DEFAULT_DB_USER_TEMPLATE = '{tenant}';

export interface SpectraClientOptions {
  /** Overrides `AWS_REGION` and the profile's region. Default: the SDK's, else the state machine's. */
  region?: string;
  /**
   * Overrides `AWS_ENDPOINT_URL`, as the AWS CLI's `--endpoint-url` does. With neither set and the
   * local state machine (account 000000000000), {@link LOCAL_ENDPOINT}.
   */
  endpoint?: string;
  /** @default `SPECTRA_STATE_MACHINE_ARN`, else {@link LOCAL_STATE_MACHINE_ARN} */
  stateMachineArn?: string;
  /** @default `SPECTRA_DYNAMODB_SESSIONS_TABLE_NAME`, else `spectra-sessions` */
  sessionsTableName?: string;
  /** How the deployment maps a tenant to its database user. @default `SPECTRA_DB_USER_TEMPLATE`, else `{tenant}` */
  dbUserTemplate?: string;
  /** Default: the SDK's credential chain; `local` keys for a loopback endpoint with none set. */
  credentials?: AwsCredentialIdentity;
  /** Clients to use instead of building them (tests, or to share connections). */
  sfnClient?: SFNClient;
  dynamoDbClient?: DynamoDBDocumentClient;
}

export interface SubmitQueryRequest {
  tenantId: string;
  sql: string;
  parameters?: SqlParameter[];
  /** The Data API's `StatementName`, shown in Redshift's system tables. */
  statementName?: string;
  /**
   * The execution name (1-80 characters). It makes the submission idempotent: submitting the same
   * input under the same name again returns the first execution instead of running the SQL twice.
   */
  name?: string;
}

export interface SubmittedQuery {
  executionArn: string;
}

export type QueryStatus = ExecutionStatus;

export interface Query {
  executionArn: string;
  /** The execution's name. */
  name: string;
  status: QueryStatus;
  startedAt: Date;
  stoppedAt?: Date;
  durationMs?: number;
  /** The error name of a failed query: `QueryFailedError`, `InvalidInputError`, ... */
  error?: string;
  /** Why it failed: the execution's JSON cause (plain text becomes `{message}`). */
  cause?: QueryFailureCause;
  /** The columns and rows, once SUCCEEDED. */
  result?: QueryResult;
  /** From the execution input; empty when the execution was not started with Spectra's input. */
  tenantId: string;
  sql: string;
  parameters?: SqlParameter[];
  statementName?: string;
}

export type SucceededQuery = Query & { status: 'SUCCEEDED'; result: QueryResult };

export interface QueryProgress {
  status: QueryStatus;
  /** The state the execution is in: the last state entered (`Poll Status`, ...). */
  state: string | undefined;
  /** Since the execution started. */
  elapsedMs: number;
}

export interface WaitOptions {
  signal?: AbortSignal;
  /** Called after every poll while the query runs; reading the current state costs one more call. */
  onProgress?: (progress: QueryProgress) => void;
  /** The longest gap between polls; they start at 100 ms and back off to it. @default 1000 */
  pollIntervalMs?: number;
}

export interface PooledSession {
  /** The Data API session id. */
  id: string;
  tenantId: string;
  dbUser: string;
  state: 'IDLE' | 'LEASED';
  createdAt: Date;
  lastUsedAt: Date;
  /** When the Data API closes the session, by its keep-alive (capped at 24 h from creation). */
  expiresAt: Date;
  /** The execution ARN holding the lease. */
  leaseOwner?: string;
  leaseExpiresAt?: Date;
}

export interface CancelledQuery {
  executionArn: string;
  /** ABORTED, or the status it had already ended with. */
  status: QueryStatus;
  /** false when the query had already ended and there was nothing to stop. */
  stopped: boolean;
}

/** How a query that did not succeed is reported: the contract's error name and a message. */
export interface QueryFailure {
  errorName: string;
  message: string;
}

const FINAL_STATUSES = new Set<string>(['SUCCEEDED', 'FAILED', 'ABORTED', 'TIMED_OUT']);
const FIRST_POLL_MS = 100;
const POLL_BACKOFF = 1.5;
/** Enough of the newest events to contain the last `…StateEntered` (a Task adds 3-4 after it). */
const RECENT_EVENTS = 25;
/** Step Functions' rule for names: no spaces, brackets, wildcards, those marks or controls (Cc). */
const EXECUTION_NAME = /^[^\s<>{}[\]?*"#%\\^|~`$&,;:/\p{Cc}]{1,80}$/u;

/** The ARN of an execution of `stateMachineArn` named `name`, as Step Functions forms it. */
export function executionArnOf(stateMachineArn: string, name: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}

function regionOfArn(arn: string): string | undefined {
  const region = arn.split(':')[3];
  return region === undefined || region === '' ? undefined : region;
}

/** JSON with object keys sorted, so two inputs compare equal whatever their key order. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner !== null && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(
          Object.entries(inner as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)),
        )
      : inner,
  );
}

function parseJsonObject(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function parseCause(text: string | undefined): QueryFailureCause | undefined {
  if (text === undefined || text === '') return undefined;
  const parsed = parseJsonObject(text);
  if (parsed === undefined) return { message: text };
  // A Lambda error that escaped the workflow's own handling reports `errorMessage`.
  if (typeof parsed.message !== 'string' && typeof parsed.errorMessage === 'string') {
    return { ...parsed, message: parsed.errorMessage };
  }
  return parsed;
}

/** Waits `ms`, or rejects with the signal's reason as soon as it aborts. */
function delay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * The error name and message of a query that did not succeed, for reports like
 * `QueryFailedError: The statement failed: ERROR: relation "nope" does not exist`.
 * Undefined for a query that succeeded or is still running.
 */
export function failureOf(query: Query): QueryFailure | undefined {
  switch (query.status) {
    case 'FAILED':
      return {
        errorName: query.error ?? 'QueryFailedError',
        message: query.cause?.message ?? 'The query failed',
      };
    case 'ABORTED':
      return {
        errorName: 'QueryAbortedError',
        message: `The query was cancelled${query.cause?.message ? `: ${query.cause.message}` : ''}`,
      };
    case 'TIMED_OUT':
      return {
        errorName: query.error ?? 'States.Timeout',
        message: 'The execution ran past the state machine timeout',
      };
    default:
      return undefined;
  }
}

export class SpectraClient {
  readonly stateMachineArn: string;
  readonly sessionsTableName: string;
  readonly dbUserTemplate: string;
  /** Where requests go when not to AWS itself (option, `AWS_ENDPOINT_URL`, or the local stack). */
  readonly endpoint: string | undefined;
  private readonly sfn: SFNClient;
  private readonly dynamoDb: DynamoDBDocumentClient;

  constructor(options: SpectraClientOptions = {}) {
    const env = process.env;
    this.stateMachineArn =
      options.stateMachineArn ?? (env.SPECTRA_STATE_MACHINE_ARN || LOCAL_STATE_MACHINE_ARN);
    this.sessionsTableName =
      options.sessionsTableName ??
      (env.SPECTRA_DYNAMODB_SESSIONS_TABLE_NAME || DEFAULT_SESSIONS_TABLE_NAME);
    this.dbUserTemplate =
      options.dbUserTemplate ?? (env.SPECTRA_DB_USER_TEMPLATE || DEFAULT_DB_USER_TEMPLATE);
    const configuredEndpoint =
      options.endpoint ??
      (env.AWS_ENDPOINT_URL ||
        env.AWS_ENDPOINT_URL_SFN ||
        env.AWS_ENDPOINT_URL_DYNAMODB ||
        undefined);
    // The local state machine can only be on the local stack: with no endpoint set, go there
    // rather than to AWS, where the request could only fail.
    const localOnly = this.stateMachineArn.split(':')[4] === LOCAL_ACCOUNT;
    this.endpoint = configuredEndpoint ?? (localOnly ? LOCAL_ENDPOINT : undefined);
    const endpoint = options.endpoint ?? (configuredEndpoint ? undefined : this.endpoint);

    const credentials =
      options.credentials ??
      (this.endpoint !== undefined &&
      isLoopbackUrl(this.endpoint) &&
      !env.AWS_ACCESS_KEY_ID &&
      !env.AWS_PROFILE
        ? LOCAL_CREDENTIALS
        : undefined);
    const region = options.region ?? this.regionProvider();
    const config = { region, endpoint, credentials };
    this.sfn = options.sfnClient ?? new SFNClient(config);
    this.dynamoDb =
      options.dynamoDbClient ?? DynamoDBDocumentClient.from(new DynamoDBClient(config));
  }

  /**
   * The SDK's region (`AWS_REGION`, the profile), else the state machine's own region: with only
   * `SPECTRA_STATE_MACHINE_ARN` set, requests still go where the state machine lives.
   */
  private regionProvider(): () => Promise<string> {
    let resolved: Promise<string> | undefined;
    const fromSdk = async (): Promise<string> => {
      const probe = new SFNClient({});
      try {
        return await probe.config.region();
      } catch (error) {
        const fallback = regionOfArn(this.stateMachineArn);
        if (fallback === undefined) throw error;
        return fallback;
      } finally {
        probe.destroy();
      }
    };
    return () => {
      resolved ??= fromSdk();
      return resolved;
    };
  }

  /** Releases the clients' sockets, so a short-lived process can exit at once. */
  destroy(): void {
    this.sfn.destroy();
    this.dynamoDb.destroy();
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
    const execution = await this.describe(executionArn, signal);
    const input = parseJsonObject(execution.input) ?? {};
    const startedAt = execution.startDate ?? new Date(0);
    const query: Query = {
      executionArn,
      name: execution.name ?? '',
      status: execution.status ?? 'RUNNING',
      startedAt,
      tenantId: typeof input.tenantId === 'string' ? input.tenantId : '',
      sql: typeof input.sql === 'string' ? input.sql : '',
    };
    if (Array.isArray(input.parameters)) query.parameters = input.parameters as SqlParameter[];
    if (typeof input.statementName === 'string') query.statementName = input.statementName;
    if (execution.stopDate) {
      query.stoppedAt = execution.stopDate;
      query.durationMs = execution.stopDate.getTime() - startedAt.getTime();
    }
    if (execution.error !== undefined) query.error = execution.error;
    const cause = parseCause(execution.cause);
    if (cause !== undefined) query.cause = cause;
    if (execution.status === 'SUCCEEDED' && execution.output !== undefined) {
      query.result = JSON.parse(execution.output) as QueryResult;
    }
    return query;
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
    const longestGap = Math.max(options.pollIntervalMs ?? 1000, 10);
    let gap = Math.min(FIRST_POLL_MS, longestGap);
    for (;;) {
      signal?.throwIfAborted();
      const query = await this.getQuery(executionArn, signal);
      if (FINAL_STATUSES.has(query.status)) return query;
      if (onProgress) {
        const state = await this.currentState(executionArn, signal);
        onProgress({
          status: query.status,
          state,
          elapsedMs: Math.max(0, Date.now() - query.startedAt.getTime()),
        });
      }
      await delay(gap, signal);
      gap = Math.min(gap * POLL_BACKOFF, longestGap);
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
  async getResult(executionArn: string): Promise<QueryResult> {
    const query = await this.getQuery(executionArn);
    if (!FINAL_STATUSES.has(query.status)) throw new QueryNotFinishedError(executionArn);
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
    if (!INPUT_LIMITS.tenantIdPattern.test(tenantId)) {
      throw new InvalidInputError(
        `Invalid input: tenantId must be 1-63 characters of lowercase letters, digits and "-", starting with a letter; got ${JSON.stringify(tenantId)}`,
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
            ExpressionAttributeValues: { ':pool': `${tenantId}#${dbUser}` },
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
    if (!(error instanceof Error)) return error;
    switch (error.name) {
      case 'ExecutionDoesNotExist':
      case 'InvalidArn':
        return executionArn === undefined
          ? new SpectraClientError(error.message, { cause: error })
          : new QueryNotFoundError(executionArn, { cause: error });
      case 'StateMachineDoesNotExist':
        return new StateMachineNotFoundError(this.stateMachineArn, { cause: error });
      case 'InvalidName':
      case 'InvalidExecutionInput':
        return new InvalidInputError(`Invalid input: ${error.message}`, { cause: error });
      case 'CredentialsProviderError':
        return new SpectraClientError(
          `No AWS credentials found (${error.message}): sign in as for the AWS CLI (AWS_PROFILE, aws sso login, AWS_ACCESS_KEY_ID...), or point --endpoint / AWS_ENDPOINT_URL at the local stack`,
          { cause: error },
        );
      case 'ResourceNotFoundException':
        return new SpectraClientError(
          `The sessions table ${this.sessionsTableName} does not exist; set SPECTRA_DYNAMODB_SESSIONS_TABLE_NAME to the table in your stack outputs`,
          { cause: error },
        );
    }
    const code = connectionErrorCode(error);
    if (code !== undefined)
      return new SpectraConnectionError(this.endpoint, code, { cause: error });
    return error;
  }
}

function dateOf(value: unknown): Date {
  return new Date(typeof value === 'string' || typeof value === 'number' ? value : 0);
}

export function toPooledSession(item: Record<string, unknown>): PooledSession {
  const session: PooledSession = {
    id: String(item.session_id),
    tenantId: String(item.tenant_id ?? ''),
    dbUser: String(item.db_user ?? ''),
    state: item.state === 'LEASED' ? 'LEASED' : 'IDLE',
    createdAt: dateOf(item.created_at),
    lastUsedAt: dateOf(item.last_used_at),
    expiresAt: dateOf(item.expires_at),
  };
  if (typeof item.lease_owner === 'string') session.leaseOwner = item.lease_owner;
  if (typeof item.lease_expires_at === 'string') {
    session.leaseExpiresAt = dateOf(item.lease_expires_at);
  }
  return session;
}
