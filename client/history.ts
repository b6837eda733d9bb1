import type { HistoryEvent } from '@aws-sdk/client-sfn';

/**
 * Turns an execution's history (GetExecutionHistory's events, in order) into the timeline of the
 * states it passed: one entry per time a state was entered.
 */

/**
 * How a state ended:
 * - `succeeded`: it exited normally on its first attempt
 * - `retried`: it exited normally after one or more failed attempts were retried
 * - `caught`: its last attempt failed and a Catch moved the execution on to another state
 * - `failed`: the execution failed here (a Fail state, or an error nothing caught)
 * - `aborted`: the execution was stopped or timed out while in this state
 * - `running`: the execution is in this state now
 */
export type StateOutcome = 'succeeded' | 'failed' | 'caught' | 'retried' | 'aborted' | 'running';

export interface StateVisit {
  /** The state's name, as in the definition (`Submit Query`). */
  state: string;
  /** The state's type: `Task`, `Choice`, `Wait`, `Succeed`, `Fail`, ... */
  type: string;
  enteredAt: Date;
  exitedAt?: Date;
  durationMs?: number;
  outcome: StateOutcome;
  /** Attempts of a Task (1 unless it was retried); absent for other types. */
  attempts?: number;
  /** The error of the last failed attempt, for a state that failed, was caught or was retried. */
  error?: string;
}

const ENTERED = /^(\w+)StateEntered$/;
const EXITED = /^(\w+)StateExited$/;
/** An attempt of a Task starts with one of these. */
const ATTEMPT_STARTS = new Set(['TaskScheduled', 'LambdaFunctionScheduled', 'ActivityScheduled']);
const ATTEMPT_SUCCEEDED = new Set([
  'TaskSucceeded',
  'LambdaFunctionSucceeded',
  'ActivitySucceeded',
]);
const ATTEMPT_FAILED = new Set([
  'TaskFailed',
  'TaskTimedOut',
  'TaskSubmitFailed',
  'TaskStartFailed',
  'LambdaFunctionFailed',
  'LambdaFunctionTimedOut',
  'LambdaFunctionStartFailed',
  'LambdaFunctionScheduleFailed',
  'ActivityFailed',
  'ActivityTimedOut',
  'ActivityScheduleFailed',
  'MapStateFailed',
  'ParallelStateFailed',
]);
const EXECUTION_FAILED = new Set(['ExecutionFailed']);
const EXECUTION_STOPPED = new Set(['ExecutionAborted', 'ExecutionTimedOut']);
/** A redrive: the state the execution ended in goes on, with no new `…StateEntered`. */
const EXECUTION_REDRIVEN = 'ExecutionRedriven';

/** The error name in whichever `…EventDetails` a failure event carries. */
function errorOf(event: HistoryEvent): string | undefined {
  for (const [key, value] of Object.entries(event)) {
    if (key.endsWith('EventDetails') && value !== null && typeof value === 'object') {
      const error = (value as { error?: unknown }).error;
      if (typeof error === 'string' && error !== '') return error;
    }
  }
  return undefined;
}

const timeOf = (event: HistoryEvent): Date => event.timestamp ?? new Date(0);

/**
 * Builds the timeline. Each visit spans the events from its `…StateEntered` to the next one;
 * what happened in between decides its outcome. A caught error has no `…StateExited` on AWS, so
 * the visit ends at its last failed attempt. A redrive continues the visit the execution ended in:
 * the end before `ExecutionRedriven` no longer counts, and the attempts after it add up.
 */
export function buildTimeline(events: readonly HistoryEvent[]): StateVisit[] {
  const visits: StateVisit[] = [];
  const starts: number[] = [];
  events.forEach((event, index) => {
    if (ENTERED.test(event.type ?? '')) starts.push(index);
  });

  starts.forEach((start, i) => {
    const enteredEvent = events[start] as HistoryEvent;
    const end = starts[i + 1] ?? events.length;
    const span = events.slice(start + 1, end);
    const type = ENTERED.exec(enteredEvent.type ?? '')?.[1] ?? 'Unknown';
    const enteredAt = timeOf(enteredEvent);

    let attempts = 0;
    let failures = 0;
    let lastAttemptFailed = false;
    let error: string | undefined;
    let failedAt: Date | undefined;
    let exitedAt: Date | undefined;
    let executionEnd: HistoryEvent | undefined;
    for (const event of span) {
      const eventType = event.type ?? '';
      if (ATTEMPT_STARTS.has(eventType)) attempts++;
      else if (ATTEMPT_SUCCEEDED.has(eventType)) lastAttemptFailed = false;
      else if (ATTEMPT_FAILED.has(eventType)) {
        failures++;
        lastAttemptFailed = true;
        error = errorOf(event) ?? error;
        failedAt = timeOf(event);
      } else if (EXITED.test(eventType)) exitedAt = timeOf(event);
      else if (EXECUTION_FAILED.has(eventType) || EXECUTION_STOPPED.has(eventType)) {
        executionEnd = event;
      } else if (eventType === EXECUTION_REDRIVEN) executionEnd = undefined;
    }

    const isLast = i === starts.length - 1;
    let outcome: StateOutcome;
    if (executionEnd && EXECUTION_STOPPED.has(executionEnd.type ?? '')) {
      outcome = 'aborted';
      exitedAt ??= timeOf(executionEnd);
    } else if (executionEnd) {
      outcome = 'failed';
      error ??= errorOf(executionEnd);
      exitedAt ??= failedAt ?? timeOf(executionEnd);
    } else if (lastAttemptFailed && !isLast) {
      outcome = 'caught';
      exitedAt = failedAt;
    } else if (exitedAt !== undefined || !isLast) {
      outcome = failures > 0 ? 'retried' : 'succeeded';
      exitedAt ??= timeOf(events[end] as HistoryEvent);
    } else {
      outcome = 'running';
    }

    visits.push({
      state: enteredEvent.stateEnteredEventDetails?.name ?? '',
      type,
      enteredAt,
      ...(exitedAt !== undefined && {
        exitedAt,
        durationMs: Math.max(0, exitedAt.getTime() - enteredAt.getTime()),
      }),
      outcome,
      ...(attempts > 0 && { attempts }),
      ...(error !== undefined && outcome !== 'succeeded' && { error }),
    });
  });
  return visits;
}

/** The state the execution is in (or was last in): the name in the last `…StateEntered` event. */
export function currentStateOf(eventsNewestFirst: readonly HistoryEvent[]): string | undefined {
  return eventsNewestFirst.find((event) => ENTERED.test(event.type ?? ''))?.stateEnteredEventDetails
    ?.name;
}
