import type { WorkflowFunctionName } from '../../functions/registry.ts';
import { type AwsJsonService, AwsServiceError } from '../aws-json.ts';
import {
  executionArnOf,
  LOCAL_ACCOUNT,
  LOCAL_REGION,
  localFunctionArn,
  stateMachineArnOf,
} from '../identity.ts';
import { type HistoryEvent, type InvocationRecord, toAwsHistory } from './history.ts';
import { type LambdaHandler, LambdaInvocationError } from './lambda-invoker.ts';
import {
  type ExecutionOutcome,
  type InvocationHook,
  type LocalExecution,
  startLocalExecution,
} from './local-execution.ts';
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
  run: LocalExecution;
  invocations: InvocationRecord[];
  stop?: {
    type: 'ExecutionAborted' | 'ExecutionTimedOut';
    at: number;
    error?: string;
    cause?: string;
  };
}

export interface StepFunctionsServiceOptions {
  handlers: Record<WorkflowFunctionName, LambdaHandler>;
  /** Runs after an execution is stopped or times out, as the AWS deployment's EventBridge rule does. */
  onExecutionStopped?: (event: ExecutionStatusChangeEvent) => Promise<void>;
  /** Wraps every Lambda invocation: the test controls count and inject faults here. */
  onInvoke?: InvocationHook;
  /** Milliseconds per Wait state name (tests and benchmarks shorten waits). */
  waitTimeOverrides?: Record<string, number>;
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

function pageOf<T>(
  items: T[],
  input: Record<string, unknown>,
  defaultSize = 100,
): { page: T[]; nextToken?: string } {
  const size =
    typeof input.maxResults === 'number' && input.maxResults > 0
      ? Math.min(input.maxResults, MAX_PAGE)
      : defaultSize;
  const start = typeof input.nextToken === 'string' ? Number.parseInt(input.nextToken, 10) : 0;
  if (Number.isNaN(start) || start < 0)
    throw new AwsServiceError('InvalidToken', `Invalid Token: '${String(input.nextToken)}'`);
  const page = items.slice(start, start + size);
  return { page, nextToken: start + size < items.length ? String(start + size) : undefined };
}

export class LocalStepFunctions implements AwsJsonService {
  readonly targetPrefix = 'AWSStepFunctions';
  readonly contentType = 'application/x-amz-json-1.0';
  private readonly stateMachines = new Map<string, RegisteredStateMachine>();
  private readonly executions = new Map<string, ExecutionRecord>();

  constructor(private readonly options: StepFunctionsServiceOptions) {}

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

  /** Settles when every execution has ended; used on shutdown and by tests. */
  async drain(): Promise<void> {
    await Promise.all([...this.executions.values()].map((e) => e.run.outcome));
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

    const invocations: InvocationRecord[] = [];
    const onInvoke: InvocationHook = async (call) => {
      const record: InvocationRecord = {
        stateName: call.stateName,
        parameters: { FunctionName: localFunctionArn(call.functionName), Payload: call.payload },
        scheduledAt: Date.now(),
      };
      invocations.push(record);
      try {
        const output = await (this.options.onInvoke ? this.options.onInvoke(call) : call.invoke());
        record.output = output;
        return output;
      } catch (error) {
        const e = error instanceof Error ? error : new Error(String(error));
        record.error = {
          error: e.name,
          cause:
            error instanceof LambdaInvocationError
              ? e.message
              : JSON.stringify({ errorMessage: e.message }),
        };
        throw error;
      } finally {
        record.endedAt = Date.now();
      }
    };
    const run = startLocalExecution(stateMachine.definition, {
      stateMachineName: stateMachine.name,
      executionName: name,
      input: parsedInput,
      handlers: stateMachine.handlers,
      onInvoke,
      waitTimeOverrides: this.options.waitTimeOverrides,
    });
    const record: ExecutionRecord = {
      arn,
      name,
      stateMachine,
      input: inputText,
      status: 'RUNNING',
      startedAt: Date.now(),
      run,
      invocations,
    };
    this.executions.set(arn, record);
    run.outcome.then((outcome) => this.settle(record, outcome));
    return { executionArn: arn, startDate: seconds(record.startedAt) };
  }

  private settle(record: ExecutionRecord, outcome: ExecutionOutcome): void {
    if (record.status !== 'RUNNING') return; // stopped meanwhile
    record.stoppedAt = Date.now();
    record.status = outcome.status;
    if (outcome.status === 'SUCCEEDED') record.output = JSON.stringify(outcome.output ?? null);
    if (outcome.status === 'FAILED') {
      record.error = outcome.error;
      record.cause = outcome.cause;
    }
    if (outcome.status === 'TIMED_OUT') {
      record.stop = { type: 'ExecutionTimedOut', at: record.stoppedAt };
      this.notifyStopped(record, 'TIMED_OUT');
    }
  }

  private notifyStopped(record: ExecutionRecord, status: 'ABORTED' | 'TIMED_OUT'): Promise<void> {
    const event = statusChangeEvent({
      executionArn: record.arn,
      stateMachineArn: record.stateMachine.arn,
      name: record.name,
      status,
      startedAt: record.startedAt,
      stoppedAt: record.stoppedAt ?? Date.now(),
      input: record.input,
      error: record.stop?.error,
      cause: record.stop?.cause,
    });
    return (
      this.options
        .onExecutionStopped?.(event)
        // The cleanup is best effort, as the EventBridge rule's target is on AWS.
        .catch(() => undefined) ?? Promise.resolve()
    );
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
      redriveCount: 0,
      redriveStatus: 'NOT_REDRIVABLE',
    };
  }

  private listExecutions(input: Record<string, unknown>) {
    const stateMachine = this.findStateMachine(requireString(input, 'stateMachineArn'));
    const statusFilter = typeof input.statusFilter === 'string' ? input.statusFilter : undefined;
    const matching = [...this.executions.values()]
      .filter(
        (e) =>
          e.stateMachine === stateMachine &&
          (statusFilter === undefined || e.status === statusFilter),
      )
      .sort((a, b) => b.startedAt - a.startedAt);
    const { page, nextToken } = pageOf(matching, input);
    return {
      executions: page.map((e) => ({
        executionArn: e.arn,
        stateMachineArn: stateMachine.arn,
        name: e.name,
        status: e.status,
        startDate: seconds(e.startedAt),
        stopDate: e.stoppedAt === undefined ? undefined : seconds(e.stoppedAt),
      })),
      nextToken,
    };
  }

  private getExecutionHistory(input: Record<string, unknown>): {
    events: HistoryEvent[];
    nextToken?: string;
  } {
    const record = this.findExecution(input);
    let events = toAwsHistory(record.run.events, record.invocations, {
      roleArn: record.stateMachine.roleArn,
      region: LOCAL_REGION,
      stop: record.stop,
    });
    if (input.reverseOrder === true) events = events.reverse();
    const { page, nextToken } = pageOf(events, input, MAX_PAGE);
    return { events: page, nextToken };
  }

  private async stopExecution(input: Record<string, unknown>) {
    const record = this.findExecution(input);
    if (record.status !== 'RUNNING') {
      // AWS accepts a stop of a closed execution and changes nothing.
      return { stopDate: seconds(record.stoppedAt ?? Date.now()) };
    }
    record.status = 'ABORTED';
    record.stoppedAt = Date.now();
    record.stop = {
      type: 'ExecutionAborted',
      at: record.stoppedAt,
      error: typeof input.error === 'string' ? input.error : undefined,
      cause: typeof input.cause === 'string' ? input.cause : undefined,
    };
    record.run.abort();
    await this.notifyStopped(record, 'ABORTED');
    return { stopDate: seconds(record.stoppedAt) };
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
    const { page, nextToken } = pageOf([...this.stateMachines.values()], input);
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
