import { createHash } from 'node:crypto';
import {
  BatchExecuteStatementCommand,
  type BatchExecuteStatementInput,
  CancelStatementCommand,
  type ColumnMetadata,
  DescribeStatementCommand,
  type DescribeStatementResponse,
  ExecuteStatementCommand,
  type ExecuteStatementInput,
  type Field,
  GetStatementResultCommand,
  type GetStatementResultCommandOutput,
  ListSessionsCommand,
  type RedshiftDataClient,
} from '@aws-sdk/client-redshift-data';
import type { DeserializeMiddleware } from '@smithy/types';
import type { ComputeTarget } from './config.ts';
import {
  dataApiRefusal,
  isResultSizeRefusal,
  isTransientAwsError,
  ResultTooLargeError,
  resultTooLargeMessage,
  rethrowTransient,
  StaleSessionError,
} from './errors.ts';
import type { SqlParameter } from './execution-input.ts';
import { clipText, STATEMENT_ERROR_MAX_BYTES } from './payload-limits.ts';
import { parseResultPage, type WireField, type WireResultPage } from './results.ts';
import type { StatementStatus } from './workflow-state.ts';

/**
 * The Data API calls Spectra makes, with its rules on which parameters go together and how errors
 * are read. The service's own rules are in its API reference,
 * https://docs.aws.amazon.com/redshift-data/latest/APIReference/: a session runs one statement
 * at a time, and a session it no longer has (or one that is busy) is refused with a
 * `ValidationException` whose message is `Session is not available`.
 */

/**
 * The texts with which the Data API refuses a session it no longer has (or that is busy), and what
 * Spectra's own message says instead of repeating the service's text.
 */
const STALE_SESSION_MESSAGES = [
  { pattern: /session is not available/i, reason: 'not available (closed, expired or busy)' },
  { pattern: /session with id\b.*\bis invalid/i, reason: 'an invalid session id' },
];

const staleSessionReason = (error: unknown): string | undefined =>
  error instanceof Error && error.name === 'ValidationException'
    ? STALE_SESSION_MESSAGES.find(({ pattern }) => pattern.test(error.message))?.reason
    : undefined;

export function isStaleSessionError(error: unknown): boolean {
  return staleSessionReason(error) !== undefined;
}

/**
 * A ClientToken that is the same every time the same submission is retried (a Lambda retry sends
 * the same execution, run and attempt) and different for a deliberate resubmission or a new run
 * (a redrive that starts over). The SDK would otherwise make a new token per call and a retried
 * Lambda would run the statement twice. `purpose` tells apart the statements of one submission:
 * the query's own (`submit`) and the `select 1` that opens a session beside a wait (`open`).
 * 64 hex characters: the Data API's maximum token length.
 */
export function clientTokenFor(
  executionArn: string,
  submitAttempt: number,
  options: { run?: number; purpose?: 'submit' | 'open' } = {},
): string {
  const { run = 0, purpose = 'submit' } = options;
  // The first run's query keeps the token it always had, so that a redrive of a submission made
  // before runs were counted still finds its statement.
  const runPart = run === 0 ? '' : `\nrun\n${run}`;
  return createHash('sha256')
    .update(`${executionArn}\n${purpose}\n${submitAttempt}${runPart}`)
    .digest('hex');
}

export interface Connection {
  target: ComputeTarget;
  database: string;
  dbUser: string;
  secretArn: string | undefined;
}

export interface ExecuteRequest {
  /** One statement (ExecuteStatement), or several run in order (BatchExecuteStatement). */
  sql: string | string[];
  /** A batch's: one transaction (`TRANSACTION`, the Data API's default) or `AUTO_COMMIT`. */
  executionMode?: 'TRANSACTION' | 'AUTO_COMMIT';
  parameters?: SqlParameter[];
  statementName?: string;
  clientToken: string;
  /** Long-poll: the Data API holds the response until the statement ends or this many seconds. */
  waitSeconds: number;
  /** Reuse: only `Sql` and `SessionId` (plus statement options) are sent, never connection fields. */
  session: { reuse: string } | { open: { keepAliveSeconds: number } } | 'none';
  connection: Connection;
}

export interface ExecuteOutcome {
  statementId: string;
  sessionId: string | undefined;
  status: StatementStatus | undefined;
  hasResultSet: boolean | undefined;
}

export class DataApi {
  constructor(private readonly client: RedshiftDataClient) {}

  /**
   * Submits one statement, or a batch of them (`sql` a list) under one statement id whose
   * sub-statements are `<id>:1`, `<id>:2`, ...
   *
   * @throws {StaleSessionError} when the reused session is refused.
   * @throws {TransientServiceError} on throttling or server faults that outlasted the SDK's
   * retries, and when the warehouse runs as many statements as it allows.
   * @throws {QueryFailedError} for a ValidationException the input checks did not foresee.
   * Other refusals (such as `ActiveSessionsExceededException`) keep the SDK's names, with a
   * message that does not repeat the service's text (it can quote the SQL or its parameters); see
   * {@link dataApiRefusal}.
   */
  async execute(request: ExecuteRequest): Promise<ExecuteOutcome> {
    const batch = Array.isArray(request.sql);
    const operation = batch ? 'BatchExecuteStatement' : 'ExecuteStatement';
    const input: Omit<ExecuteStatementInput, 'Sql'> &
      Omit<BatchExecuteStatementInput, 'Sqls'> & { Sql?: string; Sqls?: string[] } = {
      ClientToken: request.clientToken,
    };
    if (Array.isArray(request.sql)) {
      input.Sqls = request.sql;
      if (request.executionMode) input.ExecutionMode = request.executionMode;
    } else input.Sql = request.sql;
    if (request.waitSeconds > 0) input.WaitTimeSeconds = request.waitSeconds;
    if (request.parameters?.length) input.Parameters = request.parameters;
    if (request.statementName) input.StatementName = request.statementName;
    if (typeof request.session === 'object' && 'reuse' in request.session) {
      input.SessionId = request.session.reuse;
    } else {
      const { connection } = request;
      if ('clusterIdentifier' in connection.target)
        input.ClusterIdentifier = connection.target.clusterIdentifier;
      else input.WorkgroupName = connection.target.workgroupName;
      input.Database = connection.database;
      // Redshift Serverless has no DbUser: without a secret, the database user is derived from
      // the function's IAM role (IAMR:<role>), the same for every tenant.
      if (connection.secretArn) input.SecretArn = connection.secretArn;
      else if ('clusterIdentifier' in connection.target) input.DbUser = connection.dbUser;
      if (typeof request.session === 'object')
        input.SessionKeepAliveSeconds = request.session.open.keepAliveSeconds;
    }
    try {
      const output =
        input.Sqls !== undefined
          ? await this.client.send(new BatchExecuteStatementCommand({ ...input, Sqls: input.Sqls }))
          : await this.client.send(new ExecuteStatementCommand({ ...input, Sql: input.Sql }));
      if (!output.Id) throw new Error(`${operation} returned no statement Id`);
      return {
        statementId: output.Id,
        sessionId: output.SessionId,
        status: output.Status as StatementStatus | undefined,
        hasResultSet: output.HasResultSet,
      };
    } catch (error) {
      const stale = staleSessionReason(error);
      if (stale !== undefined) {
        throw new StaleSessionError(`The Data API refused session ${input.SessionId}: ${stale}`, {
          cause: error,
        });
      }
      if (isTransientAwsError(error)) rethrowTransient(error, `Redshift Data ${operation}`);
      throw dataApiRefusal(error, `Redshift Data ${operation}`);
    }
  }

  /**
   * DescribeStatement, long-polling up to `waitSeconds` when above 0. The statement's `Error` is
   * cut to {@link STATEMENT_ERROR_MAX_BYTES}: it travels in the workflow's state. `signal`
   * abandons the long-poll (the request is only a read).
   */
  async describe(
    statementId: string,
    waitSeconds: number,
    signal?: AbortSignal,
  ): Promise<DescribeStatementResponse> {
    try {
      const described = await this.client.send(
        new DescribeStatementCommand({
          Id: statementId,
          WaitTimeSeconds: waitSeconds > 0 ? waitSeconds : undefined,
        }),
        { abortSignal: signal },
      );
      if (described.Error !== undefined)
        described.Error = clipText(described.Error, STATEMENT_ERROR_MAX_BYTES);
      return described;
    } catch (error) {
      if (isTransientAwsError(error)) rethrowTransient(error, 'Redshift Data DescribeStatement');
      throw dataApiRefusal(error, 'Redshift Data DescribeStatement');
    }
  }

  /**
   * Whether a session is open and running no statement (`AVAILABLE`), running one (`BUSY`) or
   * closed (`CLOSED`, or one the Data API no longer knows).
   */
  async sessionStatus(sessionId: string): Promise<'AVAILABLE' | 'BUSY' | 'CLOSED'> {
    try {
      const { Sessions = [] } = await this.client.send(
        new ListSessionsCommand({ SessionId: sessionId }),
      );
      const status = Sessions[0]?.Status;
      return status === 'AVAILABLE' || status === 'BUSY' ? status : 'CLOSED';
    } catch (error) {
      if (error instanceof Error && error.name === 'ResourceNotFoundException') return 'CLOSED';
      return rethrowTransient(error, 'Redshift Data ListSessions');
    }
  }

  /**
   * CancelStatement. True when the Data API stopped the statement; cancelling is asynchronous,
   * so it reaches ABORTED a moment later (see {@link describe}).
   *
   * @throws {TransientServiceError} on throttling or server faults that outlasted the SDK's retries.
   * Other errors pass through with the SDK's names: a `ValidationException` for a statement that
   * is no longer running, a `ResourceNotFoundException` for one the Data API has forgotten.
   */
  async cancel(statementId: string): Promise<boolean> {
    try {
      const result = await this.client.send(new CancelStatementCommand({ Id: statementId }));
      return result.Status === true;
    } catch (error) {
      if (isTransientAwsError(error)) rethrowTransient(error, 'Redshift Data CancelStatement');
      throw dataApiRefusal(error, 'Redshift Data CancelStatement');
    }
  }

  /**
   * One page of a statement's result, with every number as the service wrote it (see
   * {@link parseResultPage}): the page is read from the response body, which a middleware on
   * this one command keeps, rather than from the SDK's output, in which int8 values are already
   * rounded.
   *
   * @throws {ResultTooLargeError} when the Data API refuses the result for its size.
   * @throws {TransientServiceError} on throttling or server faults that outlasted the SDK's retries.
   */
  async resultPage(statementId: string, nextToken: string | undefined): Promise<ResultPage> {
    const command = new GetStatementResultCommand({ Id: statementId, NextToken: nextToken });
    let body: Uint8Array | undefined;
    command.middlewareStack.add(
      keepResponseBody((bytes) => (body = bytes)),
      {
        step: 'deserialize',
        // Inside the SDK's deserializer: it sees the HTTP response before the body is parsed.
        priority: 'low',
        name: 'keepResultPageBody',
      },
    );
    try {
      const output = await this.client.send(command);
      // A client without a wire (aws-sdk-client-mock in the unit tests) answers without a body.
      const page: WireResultPage =
        body === undefined
          ? wirePageOf(output)
          : parseResultPage(Buffer.from(body).toString('utf8'));
      return {
        columns: page.ColumnMetadata ?? [],
        records: page.Records ?? [],
        totalRows: page.TotalNumRows,
        nextToken: page.NextToken || undefined,
      };
    } catch (error) {
      if (isResultSizeRefusal(error)) {
        throw new ResultTooLargeError(resultTooLargeMessage(), { statementId }, { cause: error });
      }
      if (isTransientAwsError(error)) rethrowTransient(error, 'Redshift Data GetStatementResult');
      throw dataApiRefusal(error, 'Redshift Data GetStatementResult');
    }
  }
}

export interface ResultPage {
  columns: ColumnMetadata[];
  records: WireField[][];
  totalRows: number | undefined;
  nextToken: string | undefined;
}

/**
 * A middleware that hands `keep` the body of a successful response. The page is parsed once, from
 * that body (see {@link parseResultPage}); the SDK is handed an empty JSON object in its place, so
 * that it does not parse several megabytes a second time into values that are not used. An error
 * response is left to the SDK as it is: it reads the error's name and message from it. Each
 * attempt of a retried call replaces what the previous one kept.
 */
function keepResponseBody<Input extends object, Output extends object>(
  keep: (body: Uint8Array) => void,
): DeserializeMiddleware<Input, Output> {
  return (next) => async (args) => {
    const result = await next(args);
    const response = result.response as { statusCode?: number; body?: unknown };
    if (response.statusCode === 200 && response.body !== undefined) {
      const chunks: Buffer[] = [];
      for await (const chunk of response.body as AsyncIterable<Uint8Array>)
        chunks.push(Buffer.from(chunk));
      keep(new Uint8Array(Buffer.concat(chunks)));
      response.body = new TextEncoder().encode('{}');
    }
    return result;
  };
}

/** The SDK's output in the wire's terms, for a client that answered without an HTTP body. */
function wirePageOf(output: GetStatementResultCommandOutput): WireResultPage {
  const fieldOf = (field: Field): WireField => {
    if (field.longValue !== undefined) return { longValue: BigInt(field.longValue).toString() };
    if (field.doubleValue !== undefined) return { doubleValue: String(field.doubleValue) };
    if (field.blobValue !== undefined)
      return { blobValue: Buffer.from(field.blobValue).toString('base64') };
    return field as WireField;
  };
  return {
    ColumnMetadata: output.ColumnMetadata,
    Records: output.Records?.map((record) => record.map(fieldOf)),
    TotalNumRows: output.TotalNumRows,
    NextToken: output.NextToken,
  };
}
