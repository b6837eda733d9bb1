import { type EventLog, RESUME_STATE } from './local-execution.ts';

/**
 * Turns the local engine's event log into the events Step Functions' GetExecutionHistory returns,
 * so that the console's view of an execution (and any tool reading the history) works locally.
 *
 * The engine reports state-level events (entered, exited, failed, retried, caught). The task-level
 * events of a `lambda:invoke` Task (TaskScheduled, TaskStarted, TaskSucceeded/TaskFailed, one set
 * per attempt) come from the records of each Lambda invocation, matched to the engine's events in
 * order: the engine enters a Task (or retries it) and then invokes it once.
 *
 * A redriven execution has one engine run per attempt. Its history goes on as AWS's does: an
 * `ExecutionRedriven` event, then the events of the state that failed, run again, and of the
 * states after it. The state is not entered anew: its first event after the redrive follows its
 * `…StateEntered` event of the attempt that failed.
 */

export interface InvocationRecord {
  stateName: string;
  /** The Task's effective parameters: `{FunctionName, Payload}`. */
  parameters: unknown;
  scheduledAt: number;
  endedAt?: number;
  output?: unknown;
  error?: { error: string; cause: string };
}

export interface HistoryEvent {
  id: number;
  previousEventId: number;
  timestamp: number;
  type: string;
  [details: string]: unknown;
}

/**
 * How an attempt ended when it was stopped, timed out or failed on a Step Functions limit (the
 * engine logs no reason). A limit's failure ends the history after `afterEvents` events, the
 * execution's whole history counted: on AWS the 25,000th event of a full history is the
 * ExecutionFailed.
 */
export interface AttemptStop {
  type: 'ExecutionAborted' | 'ExecutionTimedOut' | 'ExecutionFailed';
  at: number;
  error?: string;
  cause?: string;
  afterEvents?: number;
}

/**
 * How many history events each engine event becomes (see {@link appendAttempt}): the local
 * service counts them as they come, to end an execution at Step Functions' 25,000. A Task's
 * invocation adds {@link TASK_EVENTS_AT_START} when it starts and {@link TASK_EVENTS_AT_END}
 * when it ends.
 */
export function historyEventsOf(
  event: { type: string; state?: { name: string } },
  redrive: { stateName: string; resumed: boolean } | undefined,
): number {
  if (event.state?.name === RESUME_STATE) return 0;
  switch (event.type) {
    case 'ExecutionStarted':
      // Written as ExecutionStarted, or for a redrive as the ExecutionRedriven it begins with.
      return 1;
    case 'StateEntered':
      // A redriven state goes on from its entry before the redrive.
      return redrive && !redrive.resumed && event.state?.name === redrive.stateName ? 0 : 1;
    case 'StateExited':
    case 'ExecutionSucceeded':
    case 'ExecutionFailed':
      return 1;
    default:
      return 0;
  }
}

/** TaskScheduled and TaskStarted. */
export const TASK_EVENTS_AT_START = 2;
/** TaskSucceeded or TaskFailed. */
export const TASK_EVENTS_AT_END = 1;

/** One run of the engine: the execution's start, or one of its redrives. */
export interface AttemptLog {
  engineEvents: EventLog[];
  invocations: InvocationRecord[];
  stop?: AttemptStop;
  /** Set for a redrive: when, which one (1, 2, ...), and the state it ran again. */
  redrive?: { at: number; count: number; stateName: string };
}

export interface ExecutionMeta {
  roleArn: string;
  region: string;
}

const stateTypePrefix: Record<string, string> = {
  Task: 'TaskState',
  Choice: 'ChoiceState',
  Wait: 'WaitState',
  Pass: 'PassState',
  Succeed: 'SucceedState',
  Fail: 'FailState',
  Parallel: 'ParallelState',
  Map: 'MapState',
};

const json = (value: unknown) => JSON.stringify(value ?? null);
// An input or output as the history gives it: the emulator keeps it whole, never truncated.
const inputOf = (value: unknown) => ({ input: json(value), inputDetails: { truncated: false } });
const outputOf = (value: unknown) => ({ output: json(value), outputDetails: { truncated: false } });
const seconds = (ms: number) => ms / 1000;

interface StateEventShape {
  type: string;
  timestamp: number;
  state?: { name: string; type: string; input?: unknown; output?: unknown };
  Error?: string;
  Cause?: unknown;
  input?: unknown;
  output?: unknown;
}

type PendingEvent = {
  type: string;
  timestamp: number;
  /** Set when the event does not follow the one before it (a redriven state's first event). */
  previousEventId?: number;
  [details: string]: unknown;
};

export function toAwsHistory(attempts: AttemptLog[], meta: ExecutionMeta): HistoryEvent[] {
  const events: PendingEvent[] = [];
  /** Where each state was last entered: the id its redriven events follow. */
  const enteredAt = new Map<string, number>();
  for (const attempt of attempts) appendAttempt(events, enteredAt, attempt, meta);
  return cutAtLimit(events, attempts).map(({ previousEventId, ...event }, index) => ({
    ...event,
    id: index + 1,
    previousEventId: previousEventId ?? index,
  }));
}

/**
 * The history as a limit's failure leaves it: the events up to the limit, then ExecutionFailed.
 * Events the engine logged past the limit (it is stopped a moment later) are not kept.
 */
function cutAtLimit(events: PendingEvent[], attempts: AttemptLog[]): PendingEvent[] {
  const stop = attempts.at(-1)?.stop;
  if (stop?.type !== 'ExecutionFailed' || stop.afterEvents === undefined) return events;
  return [
    ...events.slice(0, stop.afterEvents),
    {
      type: 'ExecutionFailed',
      timestamp: seconds(stop.at),
      executionFailedEventDetails: { error: stop.error, cause: stop.cause },
    },
  ];
}

function appendAttempt(
  events: PendingEvent[],
  enteredAt: Map<string, number>,
  attempt: AttemptLog,
  meta: ExecutionMeta,
): void {
  const pending = new Map<string, InvocationRecord[]>();
  for (const record of attempt.invocations) {
    const queue = pending.get(record.stateName) ?? [];
    queue.push(record);
    pending.set(record.stateName, queue);
  }
  const { redrive } = attempt;
  /** The redriven state's `…StateEntered` in the attempt that failed, until its next event. */
  let resumedFrom: number | undefined;
  const push = (event: PendingEvent) => {
    if (resumedFrom !== undefined) {
      event.previousEventId = resumedFrom;
      resumedFrom = undefined;
    }
    events.push(event);
  };
  if (redrive) {
    push({
      type: 'ExecutionRedriven',
      timestamp: seconds(redrive.at),
      executionRedrivenEventDetails: { redriveCount: redrive.count },
    });
  }

  const taskAttempt = (stateName: string) => {
    const record = pending.get(stateName)?.shift();
    if (!record) return;
    const resource = { resourceType: 'lambda', resource: 'invoke' };
    push({
      type: 'TaskScheduled',
      timestamp: seconds(record.scheduledAt),
      taskScheduledEventDetails: {
        ...resource,
        region: meta.region,
        parameters: json(record.parameters),
      },
    });
    push({
      type: 'TaskStarted',
      timestamp: seconds(record.scheduledAt),
      taskStartedEventDetails: resource,
    });
    if (record.endedAt === undefined) return;
    if (record.error) {
      push({
        type: 'TaskFailed',
        timestamp: seconds(record.endedAt),
        taskFailedEventDetails: {
          ...resource,
          error: record.error.error,
          cause: record.error.cause,
        },
      });
    } else {
      push({
        type: 'TaskSucceeded',
        timestamp: seconds(record.endedAt),
        taskSucceededEventDetails: {
          ...resource,
          ...outputOf(record.output),
        },
      });
    }
  };

  let resumePending = redrive !== undefined;
  for (const raw of attempt.engineEvents as StateEventShape[]) {
    const at = seconds(raw.timestamp);
    const state = raw.state;
    // The redrive's own entry state is the engine's means, not a state of the definition.
    if (state?.name === RESUME_STATE) continue;
    const prefix = state ? (stateTypePrefix[state.type] ?? `${state.type}State`) : '';
    switch (raw.type) {
      case 'ExecutionStarted':
        if (redrive) break;
        push({
          type: 'ExecutionStarted',
          timestamp: at,
          executionStartedEventDetails: {
            ...inputOf(raw.input),
            roleArn: meta.roleArn,
          },
        });
        break;
      case 'StateEntered':
        if (!state) break;
        if (resumePending && state.name === redrive?.stateName) {
          // The state was entered before the redrive and never left: it goes on.
          resumePending = false;
          resumedFrom = enteredAt.get(state.name);
        } else {
          push({
            type: `${prefix}Entered`,
            timestamp: at,
            stateEnteredEventDetails: {
              name: state.name,
              ...inputOf(state.input),
            },
          });
          enteredAt.set(state.name, events.length);
        }
        if (state.type === 'Task') taskAttempt(state.name);
        break;
      case 'StateRetried':
        if (state?.type === 'Task') taskAttempt(state.name);
        break;
      case 'StateExited':
        if (!state) break;
        push({
          type: `${prefix}Exited`,
          timestamp: at,
          stateExitedEventDetails: {
            name: state.name,
            ...outputOf(state.output),
          },
        });
        break;
      case 'ExecutionSucceeded':
        push({
          type: 'ExecutionSucceeded',
          timestamp: at,
          executionSucceededEventDetails: {
            ...outputOf(raw.output),
          },
        });
        break;
      case 'ExecutionFailed':
        push({
          type: 'ExecutionFailed',
          timestamp: at,
          executionFailedEventDetails: {
            error: raw.Error,
            cause: typeof raw.Cause === 'string' ? raw.Cause : json(raw.Cause),
          },
        });
        break;
      default:
        // StateFailed and StateCaught: a Task's failure is already in its TaskFailed event;
        // ExecutionAborted/ExecutionTimeout are written from `attempt.stop` below, with their reason.
        break;
    }
  }
  const { stop } = attempt;
  if (stop && stop.type !== 'ExecutionFailed') {
    const details =
      stop.type === 'ExecutionAborted'
        ? { executionAbortedEventDetails: { error: stop.error, cause: stop.cause } }
        : { executionTimedOutEventDetails: { error: 'States.Timeout' } };
    push({ type: stop.type, timestamp: seconds(stop.at), ...details });
  }
}
