import * as sfnModel from '@aws-sdk/client-sfn';
import type { LambdaHandler } from '../../functions/common/handler.ts';
import type { WorkflowFunctionName } from '../../functions/registry.ts';
import { type AwsJsonService, AwsServiceError } from '../aws-json.ts';
import { clockReading, type LocalClock, realClock } from '../clock.ts';
import { executionArnOf, LOCAL_ACCOUNT, stateMachineArnOf } from '../identity.ts';
import { serviceModelOf } from '../service-model.ts';
import { type ExecutionRunOptions, ExecutionRuns } from './execution-runs.ts';
import type { AttemptStop, HistoryEvent } from './history.ts';
import { validatedMachine } from './local-execution.ts';
import {
  createStore,
  currentAttempt,
  type ExecutionRecord,
  findExecution,
  findStateMachine,
  seconds,
} from './model.ts';
import { findRedriveToken, rememberRedriveToken, unfinishedState } from './redrive.ts';
import { STEP_FUNCTIONS_RULES } from './request-rules.ts';
import { MAX_PAGE_SIZE, pageOf, requireString } from './requests.ts';
import {
  describeExecution,
  describeStateMachine,
  executionSummary,
  stateMachineSummary,
} from './responses.ts';

/**
 * The Step Functions API for the local stack (`AWSStepFunctions.*`), on aws-local-stepfunctions:
 * state machines are registered at start, executions run in process and keep their history, and
 * errors are the ones AWS returns, so the SDK's `SFNClient` and `aws stepfunctions` work unchanged.
 * This file holds the operations; what they keep is in model.ts, how an execution runs in
 * execution-runs.ts, and the shapes of the answers in responses.ts.
 */

export interface StepFunctionsServiceOptions extends ExecutionRunOptions {
  handlers: Record<WorkflowFunctionName, LambdaHandler>;
  /**
   * The stack's clock (local/clock.ts): Wait states wait on it, and every time the service
   * records follows it; or a reading of epoch milliseconds that tests move to check the
   * redrivable period (waits then run on the machine's clock).
   */
  clock?: LocalClock | (() => number);
}

const NAME_PATTERN = /^[A-Za-z0-9_-]{1,80}$/;

export class LocalStepFunctions implements AwsJsonService {
  readonly targetPrefix = 'AWSStepFunctions';
  readonly contentType = 'application/x-amz-json-1.0';
  /** Requests are checked against the SDK's model and the API reference's constraints. */
  readonly model = { model: serviceModelOf(sfnModel), rules: STEP_FUNCTIONS_RULES };
  /** Step Functions' quota: 1 MB per request. */
  readonly maxRequestBytes = 1024 * 1024;
  private readonly store = createStore();
  private readonly clock: LocalClock;
  private readonly runs: ExecutionRuns;

  constructor(private readonly options: StepFunctionsServiceOptions) {
    const { clock } = options;
    this.clock =
      clock === undefined ? realClock : typeof clock === 'function' ? clockReading(clock) : clock;
    this.runs = new ExecutionRuns(options, this.clock);
  }

  private now(): number {
    return this.clock.now();
  }

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
    const definition = JSON.parse(definitionText);
    // Validated here, as CreateStateMachine does, rather than on the first StartExecution: the
    // validation compiles a JSON schema, a synchronous task of 150 to 300 ms that otherwise stalls
    // every execution then in flight on the stack.
    validatedMachine(definition);
    this.store.stateMachines.set(arn, {
      arn,
      name,
      definitionText,
      definition,
      roleArn: `arn:aws:iam::${LOCAL_ACCOUNT}:role/spectra-local-state-machine`,
      createdAt: Date.now(),
      handlers,
    });
    return arn;
  }

  /** Settles when every execution has ended; used on shutdown and by tests. */
  async drain(): Promise<void> {
    await Promise.all([...this.store.executions.values()].map((e) => currentAttempt(e).settled));
  }

  async handle(operation: string, input: Record<string, unknown>): Promise<unknown> {
    switch (operation) {
      case 'StartExecution':
        return this.startExecution(input);
      case 'DescribeExecution': {
        const record = this.findExecution(input);
        return describeExecution(record, this.runs.redrivability(record));
      }
      case 'ListExecutions':
        return this.listExecutions(input);
      case 'GetExecutionHistory':
        return this.getExecutionHistory(input);
      case 'StopExecution':
        return this.stopExecution(input);
      case 'RedriveExecution':
        return this.redriveExecution(input);
      case 'DescribeStateMachine':
        return describeStateMachine(this.findStateMachine(input));
      case 'DescribeStateMachineForExecution':
        return {
          ...describeStateMachine(this.findExecution(input).stateMachine),
          updateDate: undefined,
        };
      case 'ListStateMachines':
        return this.listStateMachines(input);
      default:
        throw new AwsServiceError(
          'UnknownOperationException',
          `The local Step Functions does not support ${operation}`,
        );
    }
  }

  private findStateMachine(input: Record<string, unknown>) {
    return findStateMachine(this.store, requireString(input, 'stateMachineArn'));
  }

  private findExecution(input: Record<string, unknown>): ExecutionRecord {
    return findExecution(this.store, requireString(input, 'executionArn'));
  }

  private startExecution(input: Record<string, unknown>) {
    const stateMachine = this.findStateMachine(input);
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
    const existing = this.store.executions.get(arn);
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
    this.store.executions.set(arn, record);
    this.runs.runAttempt(record, parsedInput);
    return { executionArn: arn, startDate: seconds(record.startedAt) };
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
    const { redrivable, reason } = this.runs.redrivability(record);
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
    this.runs.runAttempt(
      record,
      JSON.parse(record.input),
      unfinished && { stateName: unfinished.name, stateInput: unfinished.input },
    );
    return { redriveDate: seconds(now) };
  }

  private listExecutions(input: Record<string, unknown>) {
    const stateMachine = this.findStateMachine(input);
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
    const matching = [...this.store.executions.values()]
      .filter(
        (e) =>
          e.stateMachine === stateMachine &&
          (statusFilter === undefined || e.status === statusFilter) &&
          (redriveFilter === undefined || e.redriveCount > 0 === (redriveFilter === 'REDRIVEN')),
      )
      .sort((a, b) => b.startedAt - a.startedAt);
    const { page, nextToken } = pageOf(matching, input, `ListExecutions:${stateMachine.arn}`);
    return { executions: page.map(executionSummary), nextToken };
  }

  private getExecutionHistory(input: Record<string, unknown>): {
    events: HistoryEvent[];
    nextToken?: string;
  } {
    const record = this.findExecution(input);
    let events = this.runs.history(record);
    if (input.reverseOrder === true) events = events.reverse();
    const { page, nextToken } = pageOf(
      events,
      input,
      `GetExecutionHistory:${record.arn}:${input.reverseOrder === true}`,
      MAX_PAGE_SIZE,
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
    await this.runs.notifyEnded(record, { status: 'ABORTED', stoppedAt, ...stop });
    return { stopDate: seconds(stoppedAt) };
  }

  private listStateMachines(input: Record<string, unknown>) {
    const { page, nextToken } = pageOf(
      [...this.store.stateMachines.values()],
      input,
      'ListStateMachines',
    );
    return { stateMachines: page.map(stateMachineSummary), nextToken };
  }
}
