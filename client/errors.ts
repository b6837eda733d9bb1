import type { ExecutionErrorName, FailureCause } from '#common/execution-output';

/**
 * The errors the Spectra client throws. Each sets `this.name` to a string literal (never
 * `constructor.name`, which a minifier renames), so callers and the CLI can rely on the names.
 *
 * The query's own failure (`QueryFailedError`, `QueryAbortedError`, ... as the execution reports
 * it) is not thrown by `getQuery` or `waitForQuery`: it is the query's status. `runQuery` turns it
 * into a {@link QueryExecutionError}.
 */

/** Base class of every error the client throws on purpose. */
export class SpectraClientError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SpectraClientError';
  }
}

/**
 * The query input broke the execution contract. The message is the one the state machine would
 * fail with, so a bad query is refused before it is sent.
 */
export class InvalidInputError extends SpectraClientError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InvalidInputError';
  }
}

/**
 * The client was given an endpoint or a region it cannot use (an option, or `AWS_ENDPOINT_URL`):
 * thrown by the constructor, before anything is sent.
 */
export class ClientConfigurationError extends SpectraClientError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ClientConfigurationError';
  }
}

/**
 * Base class of the errors about one query, each of which names it by its execution ARN. Never
 * thrown itself.
 */
export abstract class SpectraQueryError extends SpectraClientError {
  readonly executionArn: string;

  constructor(executionArn: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.executionArn = executionArn;
  }
}

/** The execution ARN is malformed, or no such execution exists (in this account and region). */
export class QueryNotFoundError extends SpectraQueryError {
  constructor(executionArn: string, options?: ErrorOptions) {
    super(executionArn, `No query with the execution ARN ${executionArn}`, options);
    this.name = 'QueryNotFoundError';
  }
}

/** An idempotent submission's name is already used by an execution with different input. */
export class ExecutionNameTakenError extends SpectraClientError {
  readonly executionName: string;
  readonly executionArn: string;

  constructor(executionName: string, executionArn: string, options?: ErrorOptions) {
    super(
      `The execution name "${executionName}" is taken by another query (${executionArn}); ` +
        'use a new name, or submit the same input to get that execution back',
      options,
    );
    this.name = 'ExecutionNameTakenError';
    this.executionName = executionName;
    this.executionArn = executionArn;
  }
}

/** The configured state machine does not exist (a wrong `SPECTRA_STATE_MACHINE_ARN` or region). */
export class StateMachineNotFoundError extends SpectraClientError {
  readonly stateMachineArn: string;

  constructor(stateMachineArn: string, options?: ErrorOptions) {
    super(
      `The state machine ${stateMachineArn} does not exist; set SPECTRA_STATE_MACHINE_ARN to the ` +
        'ARN in your stack outputs, and the region to its region',
      options,
    );
    this.name = 'StateMachineNotFoundError';
    this.stateMachineArn = stateMachineArn;
  }
}

/** The results of a query were asked for before it ended. */
export class QueryNotFinishedError extends SpectraQueryError {
  constructor(executionArn: string, options?: ErrorOptions) {
    super(
      executionArn,
      `The query ${executionArn} is still running; wait for it to end first`,
      options,
    );
    this.name = 'QueryNotFinishedError';
  }
}

/**
 * A written result is past its `expiresAt`: the results bucket's lifecycle has deleted it (or is
 * about to), `resultRetentionDays` after the query. The query must run again.
 */
export class ResultExpiredError extends SpectraQueryError {
  readonly expiresAt: string;

  constructor(executionArn: string, expiresAt: string, options?: ErrorOptions) {
    super(
      executionArn,
      `The result of ${executionArn} expired at ${expiresAt}: the results bucket keeps a result for the deployment's resultRetentionDays, then deletes it. Run the query again to get its rows.`,
      options,
    );
    this.name = 'ResultExpiredError';
    this.expiresAt = expiresAt;
  }
}

/** A URL was asked for a result that is in the execution output only (it fitted inline). */
export class ResultNotWrittenError extends SpectraQueryError {
  constructor(executionArn: string, rowCount: number, options?: ErrorOptions) {
    super(
      executionArn,
      `The result of ${executionArn} (${rowCount} rows) fitted in the execution output and was not written to the results bucket, so it has no URL; read its rows from the output`,
      options,
    );
    this.name = 'ResultNotWrittenError';
  }
}

/**
 * The names a query can end with (the execution's `error`), as the README lists them: Spectra's
 * own, and what Step Functions or the Lambda service report for an execution that failed at a step.
 */
export type QueryErrorName = ExecutionErrorName;

/**
 * Why a query failed: the JSON `cause` of the execution, as the state machine writes it. A cause
 * Spectra did not write (a Lambda error that escaped the workflow, Step Functions' own) may lack
 * the message or carry other fields.
 */
export type QueryFailureCause = Partial<FailureCause> & { [detail: string]: unknown };

/**
 * The query ended without a result: FAILED, ABORTED or TIMED_OUT. `errorName` is the execution's
 * error (`QueryFailedError`, `InvalidInputError`, ...), the contract's names.
 */
export class QueryExecutionError extends SpectraQueryError {
  readonly status: string;
  readonly errorName: QueryErrorName;
  readonly details: QueryFailureCause;

  constructor(
    executionArn: string,
    status: string,
    errorName: QueryErrorName,
    details: QueryFailureCause,
    options?: ErrorOptions,
  ) {
    super(executionArn, details.message ?? `The query ended ${status}`, options);
    this.name = 'QueryExecutionError';
    this.status = status;
    this.errorName = errorName;
    this.details = details;
  }
}

/**
 * RedriveExecution refused the query: it is running or succeeded, ended more than 14 days ago, or
 * its history is full. `reason` is Step Functions' own.
 */
export class QueryNotRedrivableError extends SpectraQueryError {
  constructor(executionArn: string, reason: string, options?: ErrorOptions) {
    super(executionArn, `The query cannot be redriven: ${reason}`, options);
    this.name = 'QueryNotRedrivableError';
  }
}

/** Nothing answered at the endpoint: the network, or (locally) a stack that is not running. */
export class SpectraConnectionError extends SpectraClientError {
  readonly endpoint: string | undefined;

  constructor(endpoint: string | undefined, reason: string, options?: ErrorOptions) {
    const where = endpoint ?? 'the AWS endpoint';
    const hint =
      endpoint !== undefined && isLoopbackUrl(endpoint)
        ? 'Is the local stack running? Start it with `npm start`'
        : 'Check the network, the region and AWS_ENDPOINT_URL';
    super(`Could not reach ${where} (${reason}). ${hint}.`, options);
    this.name = 'SpectraConnectionError';
    this.endpoint = endpoint;
  }
}

/** Whether a URL points at this machine, as the local stack's endpoint does. */
export function isLoopbackUrl(url: string): boolean {
  try {
    const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
    return host === 'localhost' || host === '::1' || host.startsWith('127.');
  } catch {
    return false;
  }
}

/** Socket errors that mean nobody answered, as opposed to a service error. */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
]);

/** The socket error code of a failed connection, looking into the AggregateError of dual-stack. */
export function connectionErrorCode(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as Error & { code?: unknown }).code;
  if (typeof code === 'string' && CONNECTION_CODES.has(code)) return code;
  if (error instanceof AggregateError) {
    for (const inner of error.errors) {
      const innerCode = connectionErrorCode(inner);
      if (innerCode) return innerCode;
    }
  }
  return undefined;
}
