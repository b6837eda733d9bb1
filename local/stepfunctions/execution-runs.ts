import type { LocalClock } from '../clock.ts';
import { LOCAL_REGION, localFunctionArn } from '../identity.ts';
import { type HistoryEvent, type InvocationRecord, toAwsHistory } from './history.ts';
import { LambdaInvocationError } from './lambda-invoker.ts';
import {
  type ExecutionOutcome,
  type InvocationHook,
  startLocalExecution,
} from './local-execution.ts';
import type { Attempt, ExecutionRecord } from './model.ts';
import { currentAttempt } from './model.ts';
import { MAX_HISTORY_EVENTS_TO_REDRIVE, REDRIVABLE_PERIOD_MS } from './redrive.ts';
import { type ExecutionStatusChangeEvent, statusChangeEvent } from './status-change-event.ts';

/**
 * How an execution runs: each attempt (the start, then one per redrive) on the engine with every
 * Lambda invocation recorded, how its outcome ends the execution, who is told of a failed end,
 * and what its AWS history and redrivability are.
 */

export interface ExecutionRunOptions {
  /**
   * Runs after an execution ends FAILED, ABORTED or TIMED_OUT, as the AWS deployment's
   * EventBridge rule does. A stopped execution's status changes first; a failed or timed-out one's
   * once this has run, so that whoever sees the end also sees its clean-up.
   */
  onExecutionEnded?: (event: ExecutionStatusChangeEvent) => Promise<void>;
  /** Wraps every Lambda invocation: the test controls count and inject faults here. */
  onInvoke?: InvocationHook;
  /** Milliseconds per Wait state name (tests and benchmarks shorten waits). */
  waitTimeOverrides?: Record<string, number>;
  /** Milliseconds before each retry, per state name (tests shorten retries). */
  retryIntervalOverrides?: Record<string, number>;
}

export interface ExecutionEnd {
  status: 'FAILED' | 'ABORTED' | 'TIMED_OUT';
  stoppedAt: number;
  error?: string;
  cause?: string;
}

export class ExecutionRuns {
  constructor(
    private readonly options: ExecutionRunOptions,
    private readonly clock: LocalClock,
  ) {}

  private now(): number {
    return this.clock.now();
  }

  /** Starts a run of the engine for the execution: from StartAt, or (a redrive) from a state. */
  runAttempt(
    record: ExecutionRecord,
    input: unknown,
    redrive?: { stateName: string; stateInput: unknown },
  ): void {
    const invocations: InvocationRecord[] = [];
    const onInvoke: InvocationHook = async (call) => {
      const invocation: InvocationRecord = {
        stateName: call.stateName,
        parameters: { FunctionName: localFunctionArn(call.functionName), Payload: call.payload },
        scheduledAt: this.now(),
      };
      invocations.push(invocation);
      try {
        const output = await (this.options.onInvoke ? this.options.onInvoke(call) : call.invoke());
        invocation.output = output;
        return output;
      } catch (error) {
        const e = error instanceof Error ? error : new Error(String(error));
        invocation.error = {
          error: e.name,
          cause:
            error instanceof LambdaInvocationError
              ? e.message
              : JSON.stringify({ errorMessage: e.message }),
        };
        throw error;
      } finally {
        invocation.endedAt = this.now();
      }
    };
    const { stateMachine } = record;
    const run = startLocalExecution(stateMachine.definition, {
      stateMachineName: stateMachine.name,
      executionName: record.name,
      input,
      handlers: stateMachine.handlers,
      onInvoke,
      waitTimeOverrides: this.options.waitTimeOverrides,
      retryIntervalOverrides: this.options.retryIntervalOverrides,
      redriveCount: record.redriveCount,
      resumeAt: redrive && { stateName: redrive.stateName, input: redrive.stateInput },
      clock: this.clock,
      startTime: record.startedAt,
      historyEventsBefore: record.attempts.length > 0 ? this.history(record).length : 0,
    });
    const attempt: Attempt = {
      run,
      engineEvents: run.events,
      invocations,
      ...(redrive && {
        redrive: { at: this.now(), count: record.redriveCount, stateName: redrive.stateName },
      }),
    };
    record.attempts.push(attempt);
    attempt.settled = run.outcome.then((outcome) => this.settle(record, attempt, outcome));
  }

  private async settle(
    record: ExecutionRecord,
    attempt: Attempt,
    outcome: ExecutionOutcome,
  ): Promise<void> {
    // Stopped meanwhile, or superseded: only the running attempt ends the execution.
    if (record.status !== 'RUNNING' || attempt !== currentAttempt(record)) return;
    const stoppedAt = this.now();
    if (outcome.status === 'TIMED_OUT') attempt.stop = { type: 'ExecutionTimedOut', at: stoppedAt };
    if (outcome.status === 'FAILED' && outcome.limit) {
      attempt.stop = {
        type: 'ExecutionFailed',
        at: stoppedAt,
        error: outcome.limit.error,
        cause: outcome.limit.cause,
        afterEvents: outcome.limit.afterEvents,
      };
    }
    if (outcome.status === 'FAILED' || outcome.status === 'TIMED_OUT') {
      await this.notifyEnded(record, {
        status: outcome.status,
        stoppedAt,
        error: outcome.status === 'FAILED' ? outcome.error : 'States.Timeout',
        cause: outcome.status === 'FAILED' ? outcome.cause : undefined,
      });
      // A StopExecution during the clean-up finds a running execution, and it stops it.
      if (record.status !== 'RUNNING') return;
    }
    record.stoppedAt = stoppedAt;
    record.status = outcome.status;
    if (outcome.status === 'SUCCEEDED') record.output = JSON.stringify(outcome.output ?? null);
    if (outcome.status === 'FAILED') {
      record.error = outcome.error;
      record.cause = outcome.cause;
    }
  }

  notifyEnded(record: ExecutionRecord, end: ExecutionEnd): Promise<void> {
    const event = statusChangeEvent({
      executionArn: record.arn,
      stateMachineArn: record.stateMachine.arn,
      name: record.name,
      status: end.status,
      startedAt: record.startedAt,
      stoppedAt: end.stoppedAt,
      input: record.input,
      error: end.error,
      cause: end.cause,
      redriveCount: record.redriveCount,
    });
    return (
      this.options
        .onExecutionEnded?.(event)
        // The cleanup is best effort, as the EventBridge rule's target is on AWS.
        .catch(() => undefined) ?? Promise.resolve()
    );
  }

  /** Whether RedriveExecution would accept the execution now, and if not, AWS's reason. */
  redrivability(record: ExecutionRecord): { redrivable: boolean; reason?: string } {
    if (record.status === 'RUNNING' || record.status === 'SUCCEEDED') {
      return {
        redrivable: false,
        reason: `Execution is ${record.status} and cannot be redriven`,
      };
    }
    if (this.now() - (record.stoppedAt ?? 0) > REDRIVABLE_PERIOD_MS) {
      return { redrivable: false, reason: 'Execution redrivable period exceeded' };
    }
    if (this.history(record).length >= MAX_HISTORY_EVENTS_TO_REDRIVE) {
      return { redrivable: false, reason: 'Execution history event limit exceeded' };
    }
    return { redrivable: true };
  }

  history(record: ExecutionRecord): HistoryEvent[] {
    return toAwsHistory(record.attempts, {
      roleArn: record.stateMachine.roleArn,
      region: LOCAL_REGION,
    });
  }
}
