import type { EventLog } from './local-execution.ts';

/**
 * Turns the local engine's event log into the events Step Functions' GetExecutionHistory returns,
 * so that the console's view of an execution (and any tool reading the history) works locally.
 *
 * The engine reports state-level events (entered, exited, failed, retried, caught). The task-level
 * events of a `lambda:invoke` Task (TaskScheduled, TaskStarted, TaskSucceeded/TaskFailed, one set
 * per attempt) come from the records of each Lambda invocation, matched to the engine's events in
 * order: the engine enters a Task (or retries it) and then invokes it once.
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

export interface ExecutionMeta {
  roleArn: string;
  region: string;
  /** How the execution ended, when it was stopped or timed out (the engine logs no reason). */
  stop?: {
    type: 'ExecutionAborted' | 'ExecutionTimedOut';
    at: number;
    error?: string;
    cause?: string;
  };
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

export function toAwsHistory(
  engineEvents: EventLog[],
  invocations: InvocationRecord[],
  meta: ExecutionMeta,
): HistoryEvent[] {
  const events: { type: string; timestamp: number; [details: string]: unknown }[] = [];
  const pending = new Map<string, InvocationRecord[]>();
  for (const record of invocations) {
    const queue = pending.get(record.stateName) ?? [];
    queue.push(record);
    pending.set(record.stateName, queue);
  }

  const taskAttempt = (stateName: string) => {
    const record = pending.get(stateName)?.shift();
    if (!record) return;
    const resource = { resourceType: 'lambda', resource: 'invoke' };
    events.push({
      type: 'TaskScheduled',
      timestamp: seconds(record.scheduledAt),
      taskScheduledEventDetails: {
        ...resource,
        region: meta.region,
        parameters: json(record.parameters),
      },
    });
    events.push({
      type: 'TaskStarted',
      timestamp: seconds(record.scheduledAt),
      taskStartedEventDetails: resource,
    });
    if (record.endedAt === undefined) return;
    if (record.error) {
      events.push({
        type: 'TaskFailed',
        timestamp: seconds(record.endedAt),
        taskFailedEventDetails: {
          ...resource,
          error: record.error.error,
          cause: record.error.cause,
        },
      });
    } else {
      events.push({
        type: 'TaskSucceeded',
        timestamp: seconds(record.endedAt),
        taskSucceededEventDetails: {
          ...resource,
          output: json(record.output),
          outputDetails: { truncated: false },
        },
      });
    }
  };

  for (const raw of engineEvents as StateEventShape[]) {
    const at = seconds(raw.timestamp);
    const state = raw.state;
    const prefix = state ? (stateTypePrefix[state.type] ?? `${state.type}State`) : '';
    switch (raw.type) {
      case 'ExecutionStarted':
        events.push({
          type: 'ExecutionStarted',
          timestamp: at,
          executionStartedEventDetails: {
            input: json(raw.input),
            inputDetails: { truncated: false },
            roleArn: meta.roleArn,
          },
        });
        break;
      case 'StateEntered':
        if (!state) break;
        events.push({
          type: `${prefix}Entered`,
          timestamp: at,
          stateEnteredEventDetails: {
            name: state.name,
            input: json(state.input),
            inputDetails: { truncated: false },
          },
        });
        if (state.type === 'Task') taskAttempt(state.name);
        break;
      case 'StateRetried':
        if (state?.type === 'Task') taskAttempt(state.name);
        break;
      case 'StateExited':
        if (!state) break;
        events.push({
          type: `${prefix}Exited`,
          timestamp: at,
          stateExitedEventDetails: {
            name: state.name,
            output: json(state.output),
            outputDetails: { truncated: false },
          },
        });
        break;
      case 'ExecutionSucceeded':
        events.push({
          type: 'ExecutionSucceeded',
          timestamp: at,
          executionSucceededEventDetails: {
            output: json(raw.output),
            outputDetails: { truncated: false },
          },
        });
        break;
      case 'ExecutionFailed':
        events.push({
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
        // ExecutionAborted/ExecutionTimeout are written from `meta.stop` below, with their reason.
        break;
    }
  }
  if (meta.stop) {
    const details =
      meta.stop.type === 'ExecutionAborted'
        ? { executionAbortedEventDetails: { error: meta.stop.error, cause: meta.stop.cause } }
        : { executionTimedOutEventDetails: { error: 'States.Timeout' } };
    events.push({ type: meta.stop.type, timestamp: seconds(meta.stop.at), ...details });
  }
  return events.map((event, index) => ({ ...event, id: index + 1, previousEventId: index }));
}
