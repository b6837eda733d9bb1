import { createHash } from 'node:crypto';
import {
  CancelStatementCommand,
  type ColumnMetadata,
  DescribeStatementCommand,
  type DescribeStatementResponse,
  ExecuteStatementCommand,
  type ExecuteStatementInput,
  type Field,
  GetStatementResultCommand,
  type RedshiftDataClient,
} from '@aws-sdk/client-redshift-data';
import type { ComputeTarget } from './config.ts';
import {
  isTransientAwsError,
  refusalWithoutServiceText,
  rethrowTransient,
  StaleSessionError,
} from './errors.ts';
import type { SqlParameter, StatementStatus } from './schemas.ts';

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
 * the same execution and attempt) and different for a deliberate resubmission. The SDK would
 * otherwise make a new token per call and a retried Lambda would run the statement twice.
 * 64 hex characters: the Data API's maximum token length.
 */
export function clientTokenFor(executionArn: string, submitAttempt: number): string {
  return createHash('sha256').update(`${executionArn}\nsubmit\n${submitAttempt}`).digest('hex');
}

export interface Connection {
  target: ComputeTarget;
  database: string;
  dbUser: string;
  secretArn: string | undefined;
}

export interface ExecuteRequest {
  sql: string;
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
   * Submits one statement.
   *
   * @throws {StaleSessionError} when the reused session is refused.
   * @throws {TransientServiceError} on throttling or server faults that outlasted the SDK's retries.
   * Other refusals (such as `ActiveSessionsExceededException`) keep the SDK's names, with a
   * message that does not repeat the service's text (it can quote the SQL or its parameters).
   */
  async execute(request: ExecuteRequest): Promise<ExecuteOutcome> {
    const input: ExecuteStatementInput = { Sql: request.sql, ClientToken: request.clientToken };
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
      const output = await this.client.send(new ExecuteStatementCommand(input));
      if (!output.Id) throw new Error('ExecuteStatement returned no statement Id');
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
      if (isTransientAwsError(error)) rethrowTransient(error, 'Redshift Data ExecuteStatement');
      throw refusalWithoutServiceText(error, 'Redshift Data ExecuteStatement');
    }
  }

  /** DescribeStatement, long-polling up to `waitSeconds` when above 0. */
  async describe(statementId: string, waitSeconds: number): Promise<DescribeStatementResponse> {
    try {
      return await this.client.send(
        new DescribeStatementCommand({
          Id: statementId,
          WaitTimeSeconds: waitSeconds > 0 ? waitSeconds : undefined,
        }),
      );
    } catch (error) {
      return rethrowTransient(error, 'Redshift Data DescribeStatement');
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
      return rethrowTransient(error, 'Redshift Data CancelStatement');
    }
  }

  /** One page of a statement's result. */
  async resultPage(
    statementId: string,
    nextToken: string | undefined,
  ): Promise<{
    columns: ColumnMetadata[];
    records: Field[][];
    totalRows: number | undefined;
    nextToken: string | undefined;
  }> {
    try {
      const page = await this.client.send(
        new GetStatementResultCommand({ Id: statementId, NextToken: nextToken }),
      );
      return {
        columns: page.ColumnMetadata ?? [],
        records: page.Records ?? [],
        totalRows: page.TotalNumRows,
        nextToken: page.NextToken || undefined,
      };
    } catch (error) {
      return rethrowTransient(error, 'Redshift Data GetStatementResult');
    }
  }
}
