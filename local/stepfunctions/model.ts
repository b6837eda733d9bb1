import type { LambdaHandler } from '../../functions/common/handler.ts';
import type { WorkflowFunctionName } from '../../functions/registry.ts';
import { AwsServiceError } from '../aws-json.ts';
import type { AttemptLog } from './history.ts';
import type { LocalExecution } from './local-execution.ts';
import type { RedriveToken } from './redrive.ts';

/**
 * What the local Step Functions keeps: the registered state machines and every execution with
 * its runs, and how a request's ARN finds one of them (or the error AWS returns).
 */

export type Status = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED' | 'TIMED_OUT';

export interface RegisteredStateMachine {
  arn: string;
  name: string;
  definitionText: string;
  definition: object;
  roleArn: string;
  createdAt: number;
  handlers: Record<WorkflowFunctionName, LambdaHandler>;
}

/** One run of the engine for an execution: its start, or a redrive. */
export interface Attempt extends AttemptLog {
  run: LocalExecution;
  /** Settles once the execution's record says how the run ended (and its clean-up ran). */
  settled?: Promise<void>;
}

export interface ExecutionRecord {
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

export const currentAttempt = (record: ExecutionRecord) => record.attempts.at(-1) as Attempt;

/** Step Functions' API gives times as epoch seconds. */
export const seconds = (ms: number) => ms / 1000;

export interface StepFunctionsStore {
  stateMachines: Map<string, RegisteredStateMachine>;
  executions: Map<string, ExecutionRecord>;
}

export function createStore(): StepFunctionsStore {
  return { stateMachines: new Map(), executions: new Map() };
}

/** An ARN of the resource type the operation takes (`stateMachine` or `execution`), or InvalidArn. */
function checkArn(arn: string, resourceType: 'stateMachine' | 'execution'): void {
  if (!arn.startsWith('arn:aws:states:') || !arn.includes(`:${resourceType}:`)) {
    throw new AwsServiceError(
      'InvalidArn',
      `Invalid Arn: 'Resource type not valid in this context: ${arn}'`,
    );
  }
}

export function findStateMachine(
  store: StepFunctionsStore,
  arnValue: unknown,
): RegisteredStateMachine {
  const arn = String(arnValue ?? '');
  checkArn(arn, 'stateMachine');
  const stateMachine = store.stateMachines.get(arn);
  if (!stateMachine)
    throw new AwsServiceError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`);
  return stateMachine;
}

export function findExecution(store: StepFunctionsStore, arn: string): ExecutionRecord {
  checkArn(arn, 'execution');
  const execution = store.executions.get(arn);
  if (!execution)
    throw new AwsServiceError('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
  return execution;
}
