import type { DescribeStatementResponse } from '@aws-sdk/client-redshift-data';
import { StaleSessionError } from './errors.ts';
import type { SessionRef, StatementState, StatementStatus } from './schemas.ts';
import { isFailedTransactionError } from './sql-statements.ts';

/**
 * How Spectra waits for a statement. The Data API can hold a request until the statement ends
 * (`WaitTimeSeconds`, 1-30), so most of the waiting happens on the server, not in Wait states: a
 * short query finishes inside SubmitQuery, and a long one needs one PollStatus per ~20 seconds.
 */

// How long SubmitQuery and PollStatus hold their requests on the server is configuration
// (SPECTRA_SUBMIT_WAIT_SECONDS and SPECTRA_POLL_WAIT_SECONDS, in config-table.ts).
/** When the server does not hold requests, the Wait state backs off up to this. */
export const MAX_WAIT_STATE_SECONDS = 10;
/** Time kept back from a Lambda's deadline for the work after the long-poll. */
const DEADLINE_MARGIN_MS = 8_000;

export const TERMINAL_STATUSES: ReadonlySet<StatementStatus> = new Set([
  'FINISHED',
  'FAILED',
  'ABORTED',
]);

/** A long-poll that ends before the Lambda must return. 0 means "do not long-poll". */
export function longPollSeconds(preferred: number, remainingMs: number | undefined): number {
  if (remainingMs === undefined) return preferred;
  return Math.max(0, Math.min(preferred, Math.floor((remainingMs - DEADLINE_MARGIN_MS) / 1000)));
}

/**
 * What the Wait state should wait before the next poll. 0 when the server long-polled for us (the
 * Choice then goes straight back to PollStatus, saving the Wait state's transition); otherwise an
 * exponential backoff, for a service that answers at once.
 */
export function nextWaitSeconds(
  requestedWaitSeconds: number,
  elapsedMs: number,
  polls: number,
): number {
  const serverHeldRequest =
    requestedWaitSeconds > 0 && elapsedMs >= requestedWaitSeconds * 1000 - 500;
  if (serverHeldRequest) return 0;
  return Math.min(MAX_WAIT_STATE_SECONDS, 2 ** Math.min(polls, 4));
}

/**
 * What the state keeps of a statement that ended, from DescribeStatement: when it ended, the
 * engine's error, and for a batch each sub-statement's status and which one failed (its index in
 * `statements`, from 0).
 */
export function endedStatementOf(
  described: DescribeStatementResponse,
): Pick<StatementState, 'error' | 'finishedAt' | 'failedIndex' | 'subStatuses'> {
  const subStatements = described.SubStatements;
  const failedIndex = subStatements?.findIndex((sub) => sub.Status === 'FAILED');
  return {
    error: described.Error || undefined,
    finishedAt: described.UpdatedAt?.toISOString(),
    failedIndex: failedIndex !== undefined && failedIndex >= 0 ? failedIndex : undefined,
    subStatuses: subStatements?.map((sub) => (sub.Status ?? 'SUBMITTED') as StatementStatus),
  };
}

/**
 * A reused session that answers with the failed-transaction error (SQLSTATE 25P02) is stale for
 * Spectra's purposes: the statement did not run, and the session would fail every statement until
 * a ROLLBACK. On a session this execution opened, the error is the statement's own.
 *
 * @throws {StaleSessionError} for that answer on a reused session.
 */
export function refuseFailedTransaction(
  session: SessionRef,
  status: StatementStatus,
  error: string | undefined,
): void {
  if (session.reused && status === 'FAILED' && isFailedTransactionError(error)) {
    throw new StaleSessionError(
      `Session ${session.sessionId} is inside a failed transaction (SQLSTATE 25P02): the statement did not run`,
    );
  }
}
