import './polyfill.ts';
import {
  ExecutionAbortedError,
  ExecutionError,
  ExecutionTimeoutError,
  StateMachine,
} from 'aws-local-stepfunctions';
import type { WorkflowFunctionName } from '../../functions/registry.ts';
import { loadDefinition } from '../../statemachine/definition.ts';
import { executionArnOf, localFunctionArn, stateMachineArnOf } from '../identity.ts';
import { functionsByTaskState, invokeLocally, type LambdaHandler } from './lambda-invoker.ts';

/** One event of the engine's log (the library does not export the type). */
export type EventLog =
  ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

/** The one definition, as the CDK app deploys it, with the local function ARNs substituted in. */
export const localDefinitionText = () => loadDefinition(localFunctionArn);

export const loadLocalDefinition = (): object => JSON.parse(localDefinitionText());

/** Called around every Lambda invocation; the local stack counts and injects faults through it. */
export type InvocationHook = (call: {
  stateName: string;
  functionName: WorkflowFunctionName;
  payload: unknown;
  invoke: () => Promise<unknown>;
}) => Promise<unknown>;

export interface LocalExecutionOptions {
  stateMachineName: string;
  executionName: string;
  input: unknown;
  handlers: Record<WorkflowFunctionName, LambdaHandler>;
  /** Milliseconds per Wait state name; 0 skips the wait. */
  waitTimeOverrides?: Record<string, number>;
  /** Milliseconds per retried state name; 0 retries at once. */
  retryIntervalOverrides?: Record<string, number>;
  onInvoke?: InvocationHook;
  /**
   * Runs from this state, with this state input, instead of from StartAt: a redrive. The
   * execution input (`$$.Execution.Input`) is still `input`.
   */
  resumeAt?: { stateName: string; input: unknown };
  /** `$$.Execution.RedriveCount`: 0, or how many times the execution was redriven. */
  redriveCount?: number;
}

/**
 * The Pass state a redrive starts with, which hands the failed state its recorded input. The
 * engine always enters StartAt with the execution input and sets `$$.Execution.Input` to it, so
 * the recorded state input cannot be the run's input; the history leaves this state out.
 */
export const RESUME_STATE = '(redrive)';

export type ExecutionOutcome =
  | { status: 'SUCCEEDED'; output: unknown }
  | { status: 'FAILED'; error: string; cause: string }
  | { status: 'ABORTED' }
  | { status: 'TIMED_OUT' };

export interface LocalExecution {
  executionArn: string;
  /** Settles when the execution ends; never rejects. */
  outcome: Promise<ExecutionOutcome>;
  /** The engine's events, in order, as they happen. */
  events: EventLog[];
  abort: () => void;
}

/**
 * One validated engine per definition object. Constructing a StateMachine validates the whole
 * definition with ajv, which cost most of the local stack's CPU when done per execution; `run()`
 * keeps its state per execution, so one instance serves them all.
 */
const machines = new WeakMap<object, StateMachine>();

/**
 * The definition entered at `stateName` with `stateInput`, through {@link RESUME_STATE}. The
 * input is wrapped because the engine's Pass state ignores a `Result` that is falsy. Built per
 * redrive and not validated again: the definition it extends was.
 */
function resumingMachine(definition: object, stateName: string, stateInput: unknown): StateMachine {
  const base = definition as { States: Record<string, unknown> };
  const resuming = {
    ...base,
    StartAt: RESUME_STATE,
    States: {
      ...base.States,
      [RESUME_STATE]: {
        Type: 'Pass',
        Result: { input: stateInput ?? null },
        OutputPath: '$.input',
        Next: stateName,
      },
    },
  };
  // biome-ignore lint/suspicious/noExplicitAny: the engine's definition type is stricter than JSON.parse's result.
  return new StateMachine(resuming as any, { validationOptions: { noValidate: true } });
}

function validatedMachine(definition: object): StateMachine {
  let machine = machines.get(definition);
  if (!machine) {
    // biome-ignore lint/suspicious/noExplicitAny: the engine's definition type is stricter than JSON.parse's result.
    machine = new StateMachine(definition as any, {
      validationOptions: { checkPaths: true, checkArn: true },
    });
    machines.set(definition, machine);
  }
  return machine;
}

/**
 * Runs one execution of a definition with aws-local-stepfunctions, each Task invoking the real
 * Middy handler in process.
 */
export function startLocalExecution(
  definition: object,
  options: LocalExecutionOptions,
): LocalExecution {
  const tasks = functionsByTaskState(definition as Parameters<typeof functionsByTaskState>[0]);
  const executionArn = executionArnOf(options.stateMachineName, options.executionName);
  const taskResourceLocalHandlers = Object.fromEntries(
    Object.entries(tasks).map(([stateName, functionName]) => [
      stateName,
      // biome-ignore lint/suspicious/noExplicitAny: the engine types payloads as its own JSONValue.
      async (input: any) => {
        const payload = input?.Payload;
        const invoke = () => invokeLocally(functionName, options.handlers[functionName], payload);
        return options.onInvoke
          ? options.onInvoke({ stateName, functionName, payload, invoke })
          : invoke();
      },
    ]),
  );
  const machine = options.resumeAt
    ? resumingMachine(definition, options.resumeAt.stateName, options.resumeAt.input)
    : validatedMachine(definition);
  const run = machine.run(options.input as never, {
    overrides: {
      // biome-ignore lint/suspicious/noExplicitAny: see above.
      taskResourceLocalHandlers: taskResourceLocalHandlers as any,
      waitTimeOverrides: options.waitTimeOverrides,
      retryIntervalOverrides: options.retryIntervalOverrides,
    },
    context: {
      Execution: {
        Id: executionArn,
        Name: options.executionName,
        RedriveCount: options.redriveCount ?? 0,
      },
      StateMachine: {
        Id: stateMachineArnOf(options.stateMachineName),
        Name: options.stateMachineName,
      },
    },
  });
  const events: EventLog[] = [];
  const collected = (async () => {
    for await (const event of run.eventLogs) events.push(event);
  })();
  const outcome = run.result
    .then((output): ExecutionOutcome => ({ status: 'SUCCEEDED', output }))
    .catch((error: unknown): ExecutionOutcome => {
      if (error instanceof ExecutionAbortedError) return { status: 'ABORTED' };
      if (error instanceof ExecutionTimeoutError) return { status: 'TIMED_OUT' };
      if (error instanceof ExecutionError) {
        const cause = (error as ExecutionError & { cause?: { name?: string; message?: string } })
          .cause;
        return {
          status: 'FAILED',
          error: cause?.name ?? 'States.Runtime',
          cause: cause?.message ?? '',
        };
      }
      return { status: 'FAILED', error: 'States.Runtime', cause: String(error) };
    })
    .then(async (result) => {
      await Promise.race([collected, new Promise((r) => setTimeout(r, 50))]);
      return result;
    });
  return { executionArn, outcome, events, abort: run.abort };
}
