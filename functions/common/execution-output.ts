import {
  isResultSizeRefusal,
  isStatementTimeoutText,
  QueryAbortedError,
  QueryFailedError,
  QueryTimeoutError,
  type RECOVERED_ERROR_NAMES,
  ResultTooLargeError,
  resultTooLargeMessage,
  type SpectraErrorName,
  TransientServiceError,
} from './errors.ts';
import { CAUSE_MAX_BYTES, clipText, STATEMENT_ERROR_MAX_BYTES } from './payload-limits.ts';
import { TERMINAL_STATUSES } from './polling.ts';
import type { ResultSet } from './results.ts';
import type { CaughtError, Query, StatementState, StatementStatus } from './workflow-state.ts';

/**
 * What an execution ends with, as a caller reads it: the output of a succeeded one, and the error
 * name and JSON cause of a failed one. The client reads these types; the functions write them.
 */

/** One statement of a batch, in the output of a succeeded execution. */
export interface BatchStatementResult {
  /** Its position in `statements`, from 0. */
  index: number;
  /** The sub-statement's id, `<batch id>:<index + 1>`. */
  statementId: string;
  status: StatementStatus;
  hasResultSet: boolean;
  /** Rows inserted, updated or deleted, for a statement without a result set. */
  rowsAffected?: number;
  /** The rows it returned, for a statement with a result set. */
  result?: ResultSet;
}

/**
 * The output of a succeeded execution. Its result set is the statement's; for a batch, that of
 * its last statement that returns rows, and `statements` has each statement.
 */
export interface QueryResult extends ResultSet {
  tenantId: string;
  statementId: string;
  sessionId: string | null;
  sessionReused: boolean;
  /** A batch's statements, in order. */
  statements?: BatchStatementResult[];
}

/**
 * The names an execution can end with (its `error`): Spectra's own but the ones the state machine
 * recovers from, and what Step Functions or the Lambda service report for an execution that failed
 * at a step (`States.Timeout`, `Lambda.ServiceException`, ...).
 */
export type ExecutionErrorName =
  | Exclude<SpectraErrorName, (typeof RECOVERED_ERROR_NAMES)[number]>
  | (string & {});

/** Why an execution failed: its JSON `cause`, as the failure path writes it. */
export interface FailureCause {
  message: string;
  tenantId?: string;
  statementId?: string;
  /** Redshift's own error text, for SQL errors. */
  redshiftError?: string;
  /** A batch's: the index in `statements` of the statement that failed. */
  statementIndex?: number;
  /** A batch's: how each statement ended, in order. */
  statements?: { index: number; status: StatementStatus }[];
}

/** What the execution's Fail state reports: the error's name, and a JSON Cause. */
export interface Failure {
  error: string;
  cause: string;
}

/**
 * What the failure path hands ReleaseSession, as far as the failure is concerned: a failure in
 * AcquireSession leaves only the caught `{Error, Cause}`.
 */
export interface FailingState {
  query?: Query;
  statement?: StatementState;
  error?: CaughtError;
  Error?: string;
  Cause?: string;
}

/** The message inside a caught error's Cause: Lambda reports `{errorType, errorMessage, trace}`. */
function messageOf(cause: string | undefined): string {
  if (cause === undefined) return '';
  try {
    const parsed: unknown = JSON.parse(cause);
    if (parsed && typeof parsed === 'object' && 'errorMessage' in parsed)
      return String(parsed.errorMessage);
  } catch {
    // Not JSON: Step Functions' own errors (States.Timeout, ...) carry plain text.
  }
  return cause;
}

/** What a QueryTimeoutError says for a statement Spectra cancelled. */
function timeoutMessageOf(statement: StatementState, query: Query | undefined): string {
  const stillRunning = TERMINAL_STATUSES.has(statement.status)
    ? ''
    : '; it had not ended when the execution went on, so its session was dropped';
  return statement.cancelledFor === 'history'
    ? `The execution's history neared Step Functions' limit of 25,000 events after ${statement.polls} polls; the statement was cancelled${stillRunning}`
    : `The query ran past its timeout (timeoutSeconds ${query?.timeoutSeconds ?? '?'}, until ${query?.deadline ?? '?'}); the statement was cancelled${stillRunning}`;
}

/**
 * The failure an execution ends with, from what its failure path was handed: the error a Catch
 * caught (its name, and its Cause's message), or how the statement ended (failed, cancelled, past a
 * timeout, refused for its size).
 */
export function describeFailure(state: FailingState): Failure {
  const { statement, query } = state;
  const tenantId = query?.tenantId;
  const caught =
    state.error ?? (state.Error ? { Error: state.Error, Cause: state.Cause } : undefined);
  const context = { tenantId, statementId: statement?.statementId };
  if (caught) {
    // The Lambda service failing through every retry is a dependency failing: the contract's
    // name for that is TransientServiceError; the service's own error stays in the message.
    if (caught.Error.startsWith('Lambda.')) {
      const error = new TransientServiceError(
        `${caught.Error} through every retry: ${messageOf(caught.Cause)}`,
      );
      return { error: error.name, cause: causeOf({ message: error.message, ...context }) };
    }
    return {
      error: caught.Error,
      cause: causeOf({ message: messageOf(caught.Cause), ...context }),
    };
  }
  const redshiftError = statement?.error;
  // A batch names the statement that failed by its index in `statements`, and how each ended
  // (with auto-commit, the ones before it committed).
  const failedIndex = statement?.failedIndex;
  const which =
    failedIndex === undefined
      ? 'The statement'
      : `statements[${failedIndex}] (statement ${failedIndex + 1} of ${statement?.subStatuses?.length ?? '?'})`;
  // Redshift's text is the cause's `redshiftError`, once: the message says what happened.
  const error =
    statement?.cancelledFor !== undefined
      ? new QueryTimeoutError(timeoutMessageOf(statement, query))
      : statement?.status === 'ABORTED'
        ? new QueryAbortedError(`${which} was cancelled before it finished`)
        : isResultSizeRefusal(redshiftError ?? '')
          ? new ResultTooLargeError(resultTooLargeMessage())
          : isStatementTimeoutText(redshiftError)
            ? new QueryTimeoutError(
                `${which} ran past a timeout Redshift applies (statement_timeout or a WLM rule) and was cancelled`,
              )
            : new QueryFailedError(`${which} failed`);
  const batch =
    statement?.subStatuses === undefined
      ? {}
      : {
          statementIndex: failedIndex,
          statements: statement.subStatuses.map((status, index) => ({ index, status })),
        };
  return {
    error: error.name,
    cause: causeOf({ message: error.message, ...context, redshiftError, ...batch }),
  };
}

/**
 * The Fail state's JSON cause, at most {@link CAUSE_MAX_BYTES}: the message and Redshift's text
 * (each already within {@link STATEMENT_ERROR_MAX_BYTES}, cut again here for a caught error's
 * message, which a step wrote) and the ids; if that is still too long (a batch's 40 statuses
 * besides), the message is cut further and Redshift's text left out.
 */
function causeOf(fields: FailureCause): string {
  const bounded = {
    ...fields,
    message: clipText(fields.message, STATEMENT_ERROR_MAX_BYTES),
    redshiftError:
      fields.redshiftError === undefined
        ? undefined
        : clipText(fields.redshiftError, STATEMENT_ERROR_MAX_BYTES),
  };
  const cause = JSON.stringify(bounded);
  return Buffer.byteLength(cause, 'utf8') <= CAUSE_MAX_BYTES
    ? cause
    : JSON.stringify({
        ...bounded,
        message: clipText(bounded.message, 1024),
        redshiftError: undefined,
      });
}
