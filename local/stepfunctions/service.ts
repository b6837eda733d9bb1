import * as sfnModel from '@aws-sdk/client-sfn';
import type { WorkflowFunctionName } from '../../functions/registry.ts';
import { type AwsJsonService, AwsServiceError } from '../aws-json.ts';
import { clockReading, type LocalClock, realClock } from '../clock.ts';
import {
  executionArnOf,
  LOCAL_ACCOUNT,
  LOCAL_REGION,
  localFunctionArn,
  stateMachineArnOf,
} from '../identity.ts';
import { decodePageToken, encodePageToken } from '../page-token.ts';
import { serviceModelOf } from '../service-model.ts';
import {
  type AttemptLog,
  type AttemptStop,
  type HistoryEvent,
  type InvocationRecord,
  toAwsHistory,
} from './history.ts';
import { type LambdaHandler, LambdaInvocationError } from './lambda-invoker.ts';
import {
  type ExecutionOutcome,
  type InvocationHook,
  type LocalExecution,
  startLocalExecution,
} from './local-execution.ts';
import {
  findRedriveToken,
  MAX_HISTORY_EVENTS_TO_REDRIVE,
  REDRIVABLE_PERIOD_MS,
  type RedriveToken,
  rememberRedriveToken,
  unfinishedState,
} from './redrive.ts';
import { STEP_FUNCTIONS_RULES } from './request-rules.ts';
import { type ExecutionStatusChangeEvent, statusChangeEvent } from './status-change-event.ts';

/**
 * The Step Functions API for the local stack (`AWSStepFunctions.*`), on aws-local-stepfunctions:
 * state machines are registered at start, executions run in process and keep their history, and
 * errors are the ones AWS returns, so the SDK's `SFNClient` and `aws stepfunctions` work unchanged.
 */

type Status = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED' | 'TIMED_OUT';

interface RegisteredStateMachine {
  arn: string;
  name: string;
  definitionText: string;
  definition: object;
  roleArn: string;
  createdAt: number;
  handlers: Record<WorkflowFunctionName, LambdaHandler>;
}

/** One run of the engine for an execution: its start, or a redrive. */
interface Attempt extends AttemptLog {
  run: LocalExecution;
  /** Settles once the execution's record says how the run ended (and its clean-up ran). */
  settled?: Promise<void>;
}

interface ExecutionRecord {
  arn: string;
  name: string;
  stateMachine: RegisteredStateMachine;
  input: string;
  status: Status;
  startedAt: number;
  stoppedAt?: number;
  output?: string;
  error?: string;
  cause?: string;
  /** The first run, then one per redrive; the last is the one running or that ended last. */
  attempts: Attempt[];
  redriveCount: number;
  redriveDate?: number;
  /** The client tokens of recent redrives, for RedriveExecution's idempotency. */
  redriveTokens: RedriveToken[];
}

const currentAttempt = (record: ExecutionRecord) => record.attempts.at(-1) as Attempt;

export interface StepFunctionsServiceOptions {
  handlers: Record<WorkflowFunctionName, LambdaHandler>;
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
  /**
   * The stack's clock (local/clock.ts): Wait states wait on it, and every time the service
   * records follows it; or a reading of epoch milliseconds that tests move to check the
   * redrivable period (waits then run on the machine's clock).
   */
  clock?: LocalClock | (() => number);
}

const NAME_PATTERN = /^[A-Za-z0-9_-]{1,80}$/;
const MAX_PAGE = 1000;
const seconds = (ms: number) => ms / 1000;

function requireString(input: Record<string, unknown>, field: string): string {
  const value = input[field];
  if (typeof value !== 'string' || value === '') {
    throw new AwsServiceError(
      'ValidationException',
      `1 validation error detected: Value at '${field}' failed to satisfy constraint: Member must not be null`,
    );
  }
  return value;
}

/**
 * A page of a list; `scope` names the list (the operation and what it lists), so a token issued
 * for another list, or none the service issued, is an InvalidToken. maxResults 0 means the default.
 */
function pageOf<T>(
  items: T[],
  input: Record<string, unknown>,
  scope: string,
  defaultSize = 100,
): { page: T[]; nextToken?: string } {
  const size =
    typeof input.maxResults === 'number' && input.maxResults > 0
      ? Math.min(input.maxResults, MAX_PAGE)
      : defaultSize;
  const token = typeof input.nextToken === 'string' ? input.nextToken : undefined;
  const start = decodePageToken(scope, token);
  if (start === undefined) throw new AwsServiceError('InvalidToken', `Invalid Token: '${token}'`);
  const page = items.slice(start, start + size);
  return {
    page,
    nextToken: start + size < items.length ? encodePageToken(scope, start + size) : undefined,
  };
}

export class LocalStepFunctions implements AwsJsonService {
  readonly targetPrefix = 'AWSStepFunctions';
  readonly contentType = 'application/x-amz-json-1.0';
  /** Requests are checked against the SDK's model and the API reference's constraints. */
  readonly model = { model: serviceModelOf(sfnModel), rules: STEP_FUNCTIONS_RULES };
  /** Step Functions' quota: 1 MB per request. */
  readonly maxRequestBytes = 1024 * 1024;
  private readonly stateMachines = new Map<string, RegisteredStateMachine>();
  private readonly executions = new Map<string, ExecutionRecord>();

  constructor(private readonly options: StepFunctionsServiceOptions) {
    const { clock } = options;
    this.clock =
      clock === undefined ? realClock : typeof clock === 'function' ? clockReading(clock) : clock;
    this.now = () => this.clock.now();
  }

  private readonly clock: LocalClock;

  /**
   * Registers a state machine whose definition already has the local function ARNs in it. Its
   * Tasks call `handlers` (default: the service's), so a benchmark can register variants of the
   * workflow with other configurations side by side.
   */
  register(
    name: string,
    definitionText: string,
    handlers: Record<WorkflowFunctionName, LambdaHandler> = this.options.handlers,
  ): string {
    const arn = stateMachineArnOf(name);
    this.stateMachines.set(arn, {
      arn,
      name,
      definitionText,
      definition: JSON.parse(definitionText),
      roleArn: `arn:aws:iam::${LOCAL_ACCOUNT}:role/spectra-local-state-machine`,
      createdAt: Date.now(),
      handlers,
    });
    return arn;
  }

  private readonly now: () => number;

  /** Settles when every execution has ended; used on shutdown and by tests. */
  async drain(): Promise<void> {
    await Promise.all([...this.executions.values()].map((e) => currentAttempt(e).settled));
  }

  async handle(operation: string, input: Record<string, unknown>): Promise<unknown> {
    switch (operation) {
      case 'StartExecution':
        return this.startExecution(input);
      case 'DescribeExecution':
        return this.describeExecution(this.findExecution(input));
      case 'ListExecutions':
        return this.listExecutions(input);
      case 'GetExecutionHistory':
        return this.getExecutionHistory(input);
      case 'StopExecution':
        return this.stopExecution(input);
      case 'RedriveExecution':
        return this.redriveExecution(input);
      case 'DescribeStateMachine':
        return this.describeStateMachine(input);
      case 'DescribeStateMachineForExecution': {
        const execution = this.findExecution(input);
        return {
          ...this.describeStateMachine({ stateMachineArn: execution.stateMachine.arn }),
          updateDate: undefined,
        };
      }
      case 'ListStateMachines':
        return this.listStateMachines(input);
      default:
        throw new AwsServiceError(
          'UnknownOperationException',
          `The local Step Functions does not support ${operation}`,
        );
    }
  }

  private findStateMachine(arnValue: unknown): RegisteredStateMachine {
    const arn = String(arnValue ?? '');
    if (!arn.startsWith('arn:aws:states:') || !arn.includes(':stateMachine:')) {
      throw new AwsServiceError(
        'InvalidArn',
        `Invalid Arn: 'Resource type not valid in this context: ${arn}'`,
      );
    }
    const stateMachine = this.stateMachines.get(arn);
    if (!stateMachine)
      throw new AwsServiceError(
        'StateMachineDoesNotExist',
        `State Machine Does Not Exist: '${arn}'`,
      );
    return stateMachine;
  }

  private findExecution(input: Record<string, unknown>): ExecutionRecord {
    const arn = requireString(input, 'executionArn');
    if (!arn.startsWith('arn:aws:states:') || !arn.includes(':execution:')) {
      throw new AwsServiceError(
        'InvalidArn',
        `Invalid Arn: 'Resource type not valid in this context: ${arn}'`,
      );
    }
    const execution = this.executions.get(arn);
    if (!execution)
      throw new AwsServiceError('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
    return execution;
  }

  private startExecution(input: Record<string, unknown>) {
    const stateMachine = this.findStateMachine(requireString(input, 'stateMachineArn'));
    const name = typeof input.name === 'string' ? input.name : crypto.randomUUID();
    if (!NAME_PATTERN.test(name)) {
      throw new AwsServiceError(
        'InvalidName',
        `Invalid Name: '${name}' (1-80 characters: letters, digits, "-" and "_")`,
      );
    }
    const inputText = typeof input.input === 'string' ? input.input : '{}';
    let parsedInput: unknown;
    try {
      parsedInput = JSON.parse(inputText);
    } catch {
      throw new AwsServiceError(
        'InvalidExecutionInput',
        'Invalid State Machine Execution Input: the input is not valid JSON',
      );
    }
    if (Buffer.byteLength(inputText) > 256 * 1024) {
      throw new AwsServiceError(
        'InvalidExecutionInput',
        'Invalid State Machine Execution Input: the input exceeds 262144 bytes',
      );
    }

    const arn = executionArnOf(stateMachine.name, name);
    const existing = this.executions.get(arn);
    if (existing) {
      // As on AWS (Standard): the same name and input while running is the same execution.
      if (existing.status === 'RUNNING' && existing.input === inputText) {
        return { executionArn: arn, startDate: seconds(existing.startedAt) };
      }
      throw new AwsServiceError('ExecutionAlreadyExists', `Execution Already Exists: '${arn}'`);
    }

    const record: ExecutionRecord = {
      arn,
      name,
      stateMachine,
      input: inputText,
      status: 'RUNNING',
      startedAt: this.now(),
      attempts: [],
      redriveCount: 0,
      redriveTokens: [],
    };
    this.executions.set(arn, record);
    this.runAttempt(record, parsedInput);
    return { executionArn: arn, startDate: seconds(record.startedAt) };
  }

  /** Starts a run of the engine for the execution: from StartAt, or (a redrive) from a state. */
  private runAttempt(
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

  private notifyEnded(
    record: ExecutionRecord,
    end: {
      status: 'FAILED' | 'ABORTED' | 'TIMED_OUT';
      stoppedAt: number;
      error?: string;
      cause?: string;
    },
  ): Promise<void> {
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
  private redrivability(record: ExecutionRecord): { redrivable: boolean; reason?: string } {
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

  private history(record: ExecutionRecord): HistoryEvent[] {
    return toAwsHistory(record.attempts, {
      roleArn: record.stateMachine.roleArn,
      region: LOCAL_REGION,
    });
  }

  /**
   * RedriveExecution: runs a FAILED, ABORTED or TIMED_OUT execution again from the state it did
   * not finish, with that state's recorded input, under the same ARN. The states it finished are
   * not run again; their history stays, and the new events follow `ExecutionRedriven`.
   */
  private redriveExecution(input: Record<string, unknown>) {
    const record = this.findExecution(input);
    const { clientToken } = input;
    if (
      clientToken !== undefined &&
      (typeof clientToken !== 'string' || !/^[!-~]{1,64}$/.test(clientToken))
    ) {
      throw new AwsServiceError(
        'ValidationException',
        "1 validation error detected: Value at 'clientToken' failed to satisfy constraint: Member must have length between 1 and 64 and consist of printable ASCII characters",
      );
    }
    const now = this.now();
    if (typeof clientToken === 'string') {
      const earlier = findRedriveToken(record.redriveTokens, clientToken, now);
      if (earlier) return { redriveDate: seconds(earlier.redriveDate) };
    }
    const { redrivable, reason } = this.redrivability(record);
    if (!redrivable) {
      throw new AwsServiceError('ExecutionNotRedrivable', `${reason}: '${record.arn}'`);
    }
    const unfinished = unfinishedState(record.attempts);
    record.status = 'RUNNING';
    record.stoppedAt = undefined;
    record.output = undefined;
    record.error = undefined;
    record.cause = undefined;
    record.redriveCount++;
    record.redriveDate = now;
    if (typeof clientToken === 'string')
      rememberRedriveToken(record.redriveTokens, clientToken, now);
    this.runAttempt(
      record,
      JSON.parse(record.input),
      unfinished && { stateName: unfinished.name, stateInput: unfinished.input },
    );
    return { redriveDate: seconds(now) };
  }

  private describeExecution(record: ExecutionRecord) {
    return {
      executionArn: record.arn,
      stateMachineArn: record.stateMachine.arn,
      name: record.name,
      status: record.status,
      startDate: seconds(record.startedAt),
      stopDate: record.stoppedAt === undefined ? undefined : seconds(record.stoppedAt),
      input: record.input,
      inputDetails: { included: true },
      output: record.output,
      outputDetails: record.output === undefined ? undefined : { included: true },
      error: record.error,
      cause: record.cause,
      ...this.redriveFields(record),
    };
  }

  private redriveFields(record: ExecutionRecord) {
    const { redrivable, reason } = this.redrivability(record);
    return {
      redriveCount: record.redriveCount,
      redriveDate: record.redriveDate === undefined ? undefined : seconds(record.redriveDate),
      redriveStatus: redrivable ? 'REDRIVABLE' : 'NOT_REDRIVABLE',
      redriveStatusReason: reason,
    };
  }

  private listExecutions(input: Record<string, unknown>) {
    const stateMachine = this.findStateMachine(requireString(input, 'stateMachineArn'));
    const statusFilter = typeof input.statusFilter === 'string' ? input.statusFilter : undefined;
    const redriveFilter = input.redriveFilter;
    if (
      redriveFilter !== undefined &&
      redriveFilter !== 'REDRIVEN' &&
      redriveFilter !== 'NOT_REDRIVEN'
    ) {
      throw new AwsServiceError(
        'ValidationException',
        `1 validation error detected: Value '${String(redriveFilter)}' at 'redriveFilter' failed to satisfy constraint: Member must satisfy enum value set: [REDRIVEN, NOT_REDRIVEN]`,
      );
    }
    const matching = [...this.executions.values()]
      .filter(
        (e) =>
          e.stateMachine === stateMachine &&
          (statusFilter === undefined || e.status === statusFilter) &&
          (redriveFilter === undefined || e.redriveCount > 0 === (redriveFilter === 'REDRIVEN')),
      )
      .sort((a, b) => b.startedAt - a.startedAt);
    const { page, nextToken } = pageOf(matching, input, `ListExecutions:${stateMachine.arn}`);
    return {
      executions: page.map((e) => ({
        executionArn: e.arn,
        stateMachineArn: stateMachine.arn,
        name: e.name,
        status: e.status,
        startDate: seconds(e.startedAt),
        stopDate: e.stoppedAt === undefined ? undefined : seconds(e.stoppedAt),
        redriveCount: e.redriveCount,
        redriveDate: e.redriveDate === undefined ? undefined : seconds(e.redriveDate),
      })),
      nextToken,
    };
  }

  private getExecutionHistory(input: Record<string, unknown>): {
    events: HistoryEvent[];
    nextToken?: string;
  } {
    const record = this.findExecution(input);
    let events = this.history(record);
    if (input.reverseOrder === true) events = events.reverse();
    const { page, nextToken } = pageOf(
      events,
      input,
      `GetExecutionHistory:${record.arn}:${input.reverseOrder === true}`,
      MAX_PAGE,
    );
    return { events: page, nextToken };
  }

  private async stopExecution(input: Record<string, unknown>) {
    const record = this.findExecution(input);
    if (record.status !== 'RUNNING') {
      // AWS accepts a stop of a closed execution and changes nothing.
      return { stopDate: seconds(record.stoppedAt ?? this.now()) };
    }
    const stoppedAt = this.now();
    const stop: AttemptStop = {
      type: 'ExecutionAborted',
      at: stoppedAt,
      error: typeof input.error === 'string' ? input.error : undefined,
      cause: typeof input.cause === 'string' ? input.cause : undefined,
    };
    record.status = 'ABORTED';
    record.stoppedAt = stoppedAt;
    const attempt = currentAttempt(record);
    attempt.stop = stop;
    attempt.run.abort();
    await this.notifyEnded(record, { status: 'ABORTED', stoppedAt, ...stop });
    return { stopDate: seconds(stoppedAt) };
  }

  private describeStateMachine(input: Record<string, unknown>) {
    const stateMachine = this.findStateMachine(requireString(input, 'stateMachineArn'));
    return {
      stateMachineArn: stateMachine.arn,
      name: stateMachine.name,
      status: 'ACTIVE',
      definition: stateMachine.definitionText,
      roleArn: stateMachine.roleArn,
      type: 'STANDARD',
      creationDate: seconds(stateMachine.createdAt),
      loggingConfiguration: { level: 'OFF', includeExecutionData: false },
      tracingConfiguration: { enabled: false },
    };
  }

  private listStateMachines(input: Record<string, unknown>) {
    const { page, nextToken } = pageOf(
      [...this.stateMachines.values()],
      input,
      'ListStateMachines',
    );
    return {
      stateMachines: page.map((s) => ({
        stateMachineArn: s.arn,
        name: s.name,
        type: 'STANDARD',
        creationDate: seconds(s.createdAt),
      })),
      nextToken,
    };
  }
}
