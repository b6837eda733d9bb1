/**
 * Every error a Spectra function throws on purpose.
 *
 * The `name` of each class is a contract with `statemachine/query.asl.json`: Step Functions matches
 * `ErrorEquals` against the name Lambda reports, which is `error.name`. The names are written as
 * string literals (never `this.constructor.name`) because the bundles are minified and a minifier
 * renames classes.
 */

/** Extra facts a failure carries into the execution's `Cause`. */
export interface ErrorDetails {
  statementId?: string;
  /** The engine's own error text, as the Data API reports it in `DescribeStatement.Error`. */
  redshiftError?: string;
}

/** Base class: never thrown itself, so that `instanceof SpectraError` means "thrown on purpose". */
export abstract class SpectraError extends Error {
  readonly details: ErrorDetails;

  constructor(message: string, details: ErrorDetails = {}, options?: ErrorOptions) {
    super(message, options);
    this.details = details;
  }
}

/** The execution input broke the contract; nothing was touched. */
export class InvalidInputError extends SpectraError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, {}, options);
    this.name = 'InvalidInputError';
  }
}

/** Redshift ran the statement and it failed (syntax error, permission denied, ...). */
export class QueryFailedError extends SpectraError {
  constructor(message: string, details: ErrorDetails = {}, options?: ErrorOptions) {
    super(message, details, options);
    this.name = 'QueryFailedError';
  }
}

/** The statement was cancelled before it finished. */
export class QueryAbortedError extends SpectraError {
  constructor(message: string, details: ErrorDetails = {}, options?: ErrorOptions) {
    super(message, details, options);
    this.name = 'QueryAbortedError';
  }
}

/**
 * The Data API refused the cached session (expired, reclaimed, busy or unknown). The state machine
 * catches it, drops the session record and resubmits on a new session.
 */
export class StaleSessionError extends SpectraError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, {}, options);
    this.name = 'StaleSessionError';
  }
}

/** Resubmitting on new sessions kept failing; the bound on resubmits was reached. */
export class SessionUnavailableError extends SpectraError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, {}, options);
    this.name = 'SessionUnavailableError';
  }
}

/**
 * Every session of the tenant's pool is leased and the pool is at its cap. Transient: the state
 * machine retries it with backoff, since other executions release their leases within seconds.
 */
export class SessionPoolExhaustedError extends SpectraError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, {}, options);
    this.name = 'SessionPoolExhaustedError';
  }
}

/**
 * An AWS dependency (Data API or DynamoDB) throttled or failed on the server side, and the SDK's
 * own retries did not get through. Transient: the state machine retries it with backoff.
 */
export class TransientServiceError extends SpectraError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, {}, options);
    this.name = 'TransientServiceError';
  }
}

/**
 * The query ran past its `timeoutSeconds` (or the Data API reported its own QueryTimeoutException):
 * the statement was cancelled and its session given back. Also the guard's name when an
 * execution's history nears Step Functions' 25,000-event limit, which the polling schedule keeps a
 * query of up to 24 hours far from.
 */
export class QueryTimeoutError extends SpectraError {
  constructor(message: string, details: ErrorDetails = {}, options?: ErrorOptions) {
    super(message, details, options);
    this.name = 'QueryTimeoutError';
  }
}

/**
 * A function met an error that Spectra does not expect: a defect, or a deployment problem such as
 * a missing permission. The message names the original error. The execution ends at that step,
 * so that a redrive runs the step again once the cause is fixed; the clean-up of failed
 * executions gives its session back meanwhile.
 */
export class UnexpectedError extends SpectraError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, {}, options);
    this.name = 'UnexpectedError';
  }
}

/**
 * The statement's result is larger than the Redshift Data API hands out (its documented cap is
 * 100 MB per result in the 2023 guide and 500 MB on the current troubleshooting page): neither
 * GetStatementResult nor Spectra can read it. A query that must move more rows writes them to S3
 * itself, with Redshift's UNLOAD.
 */
export class ResultTooLargeError extends SpectraError {
  constructor(message: string, details: ErrorDetails = {}, options?: ErrorOptions) {
    super(message, details, options);
    this.name = 'ResultTooLargeError';
  }
}

/** What a {@link ResultTooLargeError} says, wherever it is raised. */
export function resultTooLargeMessage(): string {
  return (
    'The result is larger than the Redshift Data API returns for one statement (its result size limit): no rows can be read. ' +
    "Narrow the query (a WHERE, an aggregate, rowLimit/byteLimit or a LIMIT), or write the rows to S3 with Redshift's UNLOAD: " +
    "UNLOAD ('select ...') TO 's3://<bucket>/<prefix>' IAM_ROLE default FORMAT PARQUET"
  );
}

/**
 * The Data API's words for a result over its size limit: "Database response exceeded size limit"
 * on its troubleshooting page. Whether the service reports it as the statement's error or as a
 * refusal of GetStatementResult is not documented, so both are recognised.
 */
const RESULT_SIZE_REFUSAL = /exceeded size limit/i;

/** Whether a statement's error text or a refused GetStatementResult is the result size limit. */
export function isResultSizeRefusal(errorOrText: unknown): boolean {
  if (typeof errorOrText === 'string') return RESULT_SIZE_REFUSAL.test(errorOrText);
  return (
    errorOrText instanceof Error &&
    errorOrText.name === 'ValidationException' &&
    RESULT_SIZE_REFUSAL.test(errorOrText.message)
  );
}

/**
 * Redshift's words when its own timeout (`statement_timeout`, set for a user, or a WLM rule)
 * cancels a statement: PostgreSQL's `canceling statement due to statement timeout`, which the
 * local engines say too. Redshift's documentation gives a WLM cancellation as `Query (<id>)
 * cancelled on user's request`, which a user's own cancel says as well, so that text is not
 * taken for a timeout.
 */
const STATEMENT_TIMEOUT_TEXT = /statement timeout/i;

/** Whether a statement's error text says that Redshift's own timeout cancelled it. */
export function isStatementTimeoutText(text: string | undefined): boolean {
  return text !== undefined && STATEMENT_TIMEOUT_TEXT.test(text);
}

/** The names the state machine may match on, one per class above. */
export const ERROR_NAMES = [
  'InvalidInputError',
  'QueryFailedError',
  'QueryAbortedError',
  'QueryTimeoutError',
  'ResultTooLargeError',
  'StaleSessionError',
  'SessionUnavailableError',
  'SessionPoolExhaustedError',
  'TransientServiceError',
  'UnexpectedError',
] as const;

export type SpectraErrorName = (typeof ERROR_NAMES)[number];

/**
 * Errors that say the query cannot succeed as it was sent: the state machine catches them by
 * name, releases the session and ends the execution in its Fail state with a JSON cause.
 */
export const TERMINAL_ERROR_NAMES = [
  'InvalidInputError',
  'QueryFailedError',
  'QueryAbortedError',
  'QueryTimeoutError',
  'ResultTooLargeError',
  'SessionUnavailableError',
] as const satisfies readonly SpectraErrorName[];

/**
 * Errors that may pass: the state machine retries them with backoff and, when they outlast the
 * retries, catches nothing, so the execution fails at the step that threw and a redrive of it
 * runs that step again. The clean-up of failed executions gives the session back meanwhile.
 */
export const TRANSIENT_ERROR_NAMES = [
  'TransientServiceError',
  'SessionPoolExhaustedError',
] as const satisfies readonly SpectraErrorName[];

/**
 * Errors that end the execution at the step that threw them, without a retry: a defect or a
 * deployment problem is not cured by trying again at once, but a redrive runs the step again
 * once it is fixed.
 */
export const AT_STEP_ERROR_NAMES = [
  'UnexpectedError',
] as const satisfies readonly SpectraErrorName[];

/**
 * Errors that never end an execution: the state machine catches them and recovers (a stale
 * session is dropped and the statement resubmitted on a new one).
 */
export const RECOVERED_ERROR_NAMES = [
  'StaleSessionError',
] as const satisfies readonly SpectraErrorName[];

/** A configuration value is missing or out of range; the function refuses to start. */
export class ConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigurationError';
  }
}

/** Error names AWS services use for throttling, across the Data API, DynamoDB and Step Functions. */
const THROTTLING_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ProvisionedThroughputExceededException',
  'RequestThrottled',
  'SlowDown',
]);

/** Network failures that mean "try again", not "this request is wrong". */
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN']);

interface AwsErrorShape {
  name?: string;
  code?: string;
  $fault?: string;
  $metadata?: { httpStatusCode?: number };
}

/**
 * Whether an error from an AWS SDK call is worth retrying later: throttling, a server-side fault,
 * or the network. The SDK has already retried these; what is left is for the state machine.
 */
export function isTransientAwsError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const e = error as Error & AwsErrorShape;
  if (THROTTLING_NAMES.has(e.name)) return true;
  if (e.code !== undefined && NETWORK_CODES.has(e.code)) return true;
  if (e.name === 'TimeoutError') return true;
  const status = e.$metadata?.httpStatusCode;
  return e.$fault === 'server' || (status !== undefined && status >= 500);
}

/**
 * An AWS error as a thrown error's message may say it: its name and HTTP status, not the service's
 * text. A thrown error's message reaches the function's log (the Lambda runtime writes it) and
 * the execution's Cause, and a service's text about a request can quote what the request carried:
 * the SQL, a parameter value, Redshift's own error.
 */
function nameAndStatusOf(error: Error & AwsErrorShape): string {
  const status = error.$metadata?.httpStatusCode;
  return status === undefined ? error.name : `${error.name} (HTTP ${status})`;
}

/** Re-throws a transient AWS error as {@link TransientServiceError}; anything else unchanged. */
export function rethrowTransient(error: unknown, operation: string): never {
  if (isTransientAwsError(error)) {
    throw new TransientServiceError(
      `${operation} failed after retries: ${nameAndStatusOf(error as Error)}`,
      { cause: error },
    );
  }
  throw error;
}

/**
 * A Data API refusal as the error contract names it: `QueryTimeoutException` is a
 * {@link QueryTimeoutError}; `ActiveStatementsExceededException` (the warehouse runs as many
 * statements as it allows) is transient; a `ValidationException` of ExecuteStatement or
 * BatchExecuteStatement that Spectra's own checks did not foresee (they cover every rule the Data
 * API documents) is a {@link QueryFailedError}: the statement cannot run as sent. Anything else
 * keeps the service's name (see {@link refusalWithoutServiceText}), which the functions' error
 * boundary reports as unexpected.
 */
export function dataApiRefusal(error: unknown, operation: string): Error {
  const name = error instanceof Error ? error.name : '';
  const what = error instanceof Error ? nameAndStatusOf(error) : String(error);
  if (name === 'QueryTimeoutException')
    return new QueryTimeoutError(
      `${operation} reported a query timeout: ${what}`,
      {},
      { cause: error },
    );
  if (name === 'ActiveStatementsExceededException')
    return new TransientServiceError(
      `${operation} was refused: the warehouse runs as many statements as the Data API allows (${what})`,
      { cause: error },
    );
  if (name === 'ValidationException' && /ExecuteStatement$/.test(operation))
    return new QueryFailedError(
      `${operation} refused the statement as invalid: ${what}; the service's message is not repeated, as it can quote the SQL or its parameters`,
      {},
      { cause: error },
    );
  return refusalWithoutServiceText(error, operation);
}

/**
 * The error of a refused request that carried tenant data (ExecuteStatement's SQL and parameters),
 * under the service's own error name, which the state machine and the callers match on, and with a
 * message that leaves the service's text out (see {@link nameAndStatusOf}); the original error is
 * its `cause`, which neither the Lambda runtime nor Step Functions report.
 */
export function refusalWithoutServiceText(error: unknown, operation: string): Error {
  if (!(error instanceof Error)) return new Error(`${operation} was refused`, { cause: error });
  const refusal = new Error(
    `${operation} was refused: ${nameAndStatusOf(error)}; the service's message is not repeated, as it can quote the SQL or its parameters`,
    { cause: error },
  );
  // The service's name, passed on as the SDK reported it: not one of Spectra's own errors.
  refusal.name = error.name;
  return refusal;
}
