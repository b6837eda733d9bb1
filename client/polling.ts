/**
 * How the client paces its polls of a running query: the statuses at which it stops, the gaps
 * between polls (short at first, growing to the caller's interval), and a wait the caller's
 * signal can cut short.
 */

const FINAL_STATUSES = new Set<string>(['SUCCEEDED', 'FAILED', 'ABORTED', 'TIMED_OUT']);
const FIRST_POLL_MS = 100;
const POLL_BACKOFF = 1.5;

/** Whether an execution with this status has ended. */
export const isFinalStatus = (status: string): boolean => FINAL_STATUSES.has(status);

/** The gaps between polls: from 100 ms, growing by half each time to `pollIntervalMs` (≥ 10). */
export function* pollGaps(pollIntervalMs = 1000): Generator<number, never> {
  const longestGap = Math.max(pollIntervalMs, 10);
  let gap = Math.min(FIRST_POLL_MS, longestGap);
  for (;;) {
    yield gap;
    gap = Math.min(gap * POLL_BACKOFF, longestGap);
  }
}

/** Waits `ms`, or rejects with the signal's reason as soon as it aborts. */
export function delay(ms: number, signal: AbortSignal | undefined): Promise<void> {
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
