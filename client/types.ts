import type { S3Client } from '@aws-sdk/client-s3';
import type { ExecutionStatus, SFNClient } from '@aws-sdk/client-sfn';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AwsCredentialIdentity } from '@smithy/types';
import type { SqlParameter } from '#common/execution-input';
import type { QueryResult } from '#common/execution-output';
import type { QueryErrorName, QueryFailureCause } from './errors.ts';
import type { ReadableResult } from './result-rows.ts';

/**
 * What the Spectra client takes and returns: its options, the query it submits, and the query,
 * progress and pooled sessions it reads back.
 */

export type {
  ReadableBatchStatement,
  ReadableResult,
  ReadOptions,
  ResultProgress,
  RowAccess,
} from './result-rows.ts';
export type { QueryResult, SqlParameter };

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
  /** How the deployment maps a tenant to its database user. @default `SPECTRA_DB_USER_TEMPLATE`, else `tenant_{tenant}` */
  dbUserTemplate?: string;
  /** Default: the SDK's credential chain; `local` keys for a loopback endpoint with none set. */
  credentials?: AwsCredentialIdentity;
  /** Clients to use instead of building them (tests, or to share connections). */
  sfnClient?: SFNClient;
  dynamoDbClient?: DynamoDBDocumentClient;
  /** Reads results written to the results bucket. */
  s3Client?: S3Client;
  /** What "now" is when the client decides whether a written result has expired. */
  clock?: () => Date;
}

export interface SubmitQueryRequest {
  tenantId: string;
  /** One statement; or give `statements` instead. */
  sql?: string;
  /**
   * 1-40 statements run in order on one session, as one BatchExecuteStatement: one transaction
   * (`transaction` true, the default) or each committed on its own (`transaction: false`).
   * `parameters` are shared by them.
   */
  statements?: string[];
  transaction?: boolean;
  parameters?: SqlParameter[];
  /** The Data API's `StatementName`, shown in Redshift's system tables. */
  statementName?: string;
  /** The result stops after this many rows (`truncated` says whether rows were left out). */
  rowLimit?: number;
  /** The result stops before the row that would take its JSON Lines past this many bytes. */
  byteLimit?: number;
  /**
   * How long the query may take from the start of its execution, 1-86400 seconds (default: the
   * deployment's SPECTRA_QUERY_TIMEOUT_SECONDS, 3600). Then its statement is cancelled and the
   * query ends with QueryTimeoutError.
   */
  timeoutSeconds?: number;
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
  error?: QueryErrorName;
  /** Why it failed: the execution's JSON cause (plain text becomes `{message}`). */
  cause?: QueryFailureCause;
  /**
   * The columns and rows, once SUCCEEDED: `for await (const row of result)` reads every row,
   * whether the result is in the output or was written to the results bucket.
   */
  result?: ReadableResult;
  /** From the execution input; empty when the execution was not started with Spectra's input. */
  tenantId: string;
  /** The `sql` of the input, or its `statements` joined by `;` and a line break. */
  sql: string;
  /** The input's `statements`, for a batch. */
  statements?: string[];
  parameters?: SqlParameter[];
  statementName?: string;
  /** How many times the execution was redriven, and when last; 0 when never. */
  redriveCount: number;
  redrivenAt?: Date;
}

export type SucceededQuery = Query & { status: 'SUCCEEDED'; result: ReadableResult };

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

export interface RedrivenQuery {
  executionArn: string;
  /** When Step Functions accepted the redrive. */
  redrivenAt: Date;
}
