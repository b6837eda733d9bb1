import type { StatementStatus } from './schemas.ts';

/**
 * How Spectra waits for a statement. The Data API can hold a request until the statement ends
 * (`WaitTimeSeconds`, 1-30), so most of the waiting happens on the server, not in Wait states: a
 * short query finishes inside SubmitQuery, and a long one needs one PollStatus per ~20 seconds.
 */

// How long SubmitQuery and PollStatus hold their requests on the server is configuration
// (SPECTRA_SUBMIT_WAIT_SECONDS, default 5: a typical dashboard query ends inside SubmitQuery;
// SPECTRA_POLL_WAIT_SECONDS, default 20: the functions get 60 s, which leaves ample margin).
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
