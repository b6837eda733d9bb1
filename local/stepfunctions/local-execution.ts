import './polyfill.ts';
import {
  ExecutionAbortedError,
  ExecutionError,
  ExecutionTimeoutError,
  StateMachine,
} from 'aws-local-stepfunctions';
import type { LambdaHandler } from '../../functions/common/handler.ts';
import type { WorkflowFunctionName } from '../../functions/registry.ts';
import { loadDefinition } from '../../statemachine/definition.ts';
import { type LocalClock, realClock } from '../clock.ts';
import { executionArnOf, localFunctionArn, stateMachineArnOf } from '../identity.ts';
import { TASK_EVENTS_AT_END, TASK_EVENTS_AT_START } from './history.ts';
import { functionsByTaskState, invokeLocally } from './lambda-invoker.ts';
import { ExecutionLimits, type LimitBreach } from './limits.ts';
import { STACK_START_TIME_FIELD, stackTimeDefinition, waitMilliseconds } from './stack-time.ts';

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
  /** The stack's clock: Wait states wait on it, and the events are stamped with it. */
  clock?: LocalClock;
  /** `$$.Execution.StartTime`, epoch milliseconds (default: now, on the clock). */
  startTime?: number;
  /** History events of the attempts before this one (a redrive): the 25,000 count them too. */
  historyEventsBefore?: number;
}

/**
 * The Pass state a redrive starts with, which hands the failed state its recorded input. The
 * engine always enters StartAt with the execution input and sets `$$.Execution.Input` to it, so
 * the recorded state input cannot be the run's input; the history leaves this state out.
 */
export const RESUME_STATE = '(redrive)';

export type ExecutionOutcome =
  | { status: 'SUCCEEDED'; output: unknown }
  /** `limit`: a Step Functions limit ended it (see local/stepfunctions/limits.ts). */
  | { status: 'FAILED'; error: string; cause: string; limit?: LimitBreach }
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
 * One validated engine per definition object, on the definition as the stack runs it
 * (local/stepfunctions/stack-time.ts). Constructing a StateMachine validates the whole definition
 * with ajv, which cost most of the local stack's CPU when done per execution; `run()` keeps its
 * state per execution, so one instance serves them all.
 */
const machines = new WeakMap<object, ValidatedMachine>();
/**
 * The same engines by the definition's text: a definition registered again (each stack a process
 * starts, each service a test makes, each variant a benchmark registers with the same workflow)
 * is parsed into a new object, and asl-validator builds a new ajv instance for every validation
 * (100 to 300 ms of CPU), so an equal text is not validated twice.
 */
const machinesByText = new Map<string, ValidatedMachine>();

interface ValidatedMachine {
  machine: StateMachine;
  stackTime: StackTime;
}

type StackTime = ReturnType<typeof stackTimeDefinition>;

/**
 * The definition entered at `stateName` with `stateInput`, through {@link RESUME_STATE}. The
 * input is wrapped because the engine's Pass state ignores a `Result` that is falsy. Built per
 * redrive and not validated again: the definition it extends was.
 */
function resumingMachine(
  definition: object,
  stateName: string,
  stateInput: unknown,
): { machine: StateMachine; stackTime: StackTime } {
  const stackTime = stackTimeDefinition(definition);
  const base = stackTime.definition as { States: Record<string, unknown> };
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
  return {
    // biome-ignore lint/suspicious/noExplicitAny: the engine's definition type is stricter than JSON.parse's result.
    machine: new StateMachine(resuming as any, { validationOptions: { noValidate: true } }),
    stackTime,
  };
}

export function validatedMachine(definition: object): ValidatedMachine {
  let entry = machines.get(definition);
  if (!entry) {
    const text = JSON.stringify(definition);
    entry = machinesByText.get(text);
    if (!entry) {
      const stackTime = stackTimeDefinition(definition);
      // biome-ignore lint/suspicious/noExplicitAny: the engine's definition type is stricter than JSON.parse's result.
      const machine = new StateMachine(stackTime.definition as any, {
        validationOptions: { checkPaths: true, checkArn: true },
      });
      entry = { machine, stackTime };
      machinesByText.set(text, entry);
    }
    machines.set(definition, entry);
  }
  return entry;
}

/** Lets the promise callbacks under way run first (the collection of the engine's events). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** What a Task that is not to run returns: its execution is ending on a limit or a stop. */
const ENDED = () => Promise.reject(new Error('The execution has ended'));

/**
 * Runs one execution of a definition with aws-local-stepfunctions, each Task invoking the real
 * Middy handler in process, each Wait waiting on the stack's clock, and Step Functions' limits
 * enforced (local/stepfunctions/limits.ts).
 */
export function startLocalExecution(
  definition: object,
  options: LocalExecutionOptions,
): LocalExecution {
  const clock = options.clock ?? realClock;
  const tasks = functionsByTaskState(definition as Parameters<typeof functionsByTaskState>[0]);
  const executionArn = executionArnOf(options.stateMachineName, options.executionName);
  const { machine, stackTime } = options.resumeAt
    ? resumingMachine(definition, options.resumeAt.stateName, options.resumeAt.input)
    : validatedMachine(definition);

  let run: ReturnType<StateMachine['run']> | undefined;
  const stopped = new AbortController();
  const limits = new ExecutionLimits(
    () => {
      stopped.abort();
      run?.abort();
    },
    { eventsBefore: options.historyEventsBefore, redriveOf: options.resumeAt?.stateName },
  );

  const lambdaTasks = Object.entries(tasks).map(([stateName, functionName]) => [
    stateName,
    // biome-ignore lint/suspicious/noExplicitAny: the engine types payloads as its own JSONValue.
    async (input: any) => {
      // The engine logged this state's entry just now; its check and count come first.
      await settle();
      if (stopped.signal.aborted || !limits.taskStarting(stateName, input, TASK_EVENTS_AT_START))
        return ENDED();
      const payload = input?.Payload;
      const invoke = () => invokeLocally(functionName, options.handlers[functionName], payload);
      try {
        const result = await (options.onInvoke
          ? options.onInvoke({ stateName, functionName, payload, invoke })
          : invoke());
        limits.taskEnded(stateName, { result }, TASK_EVENTS_AT_END);
        return result;
      } catch (error) {
        const e = error instanceof Error ? error : new Error(String(error));
        limits.taskEnded(stateName, { error: e.name, cause: e.message }, TASK_EVENTS_AT_END);
        throw error;
      }
    },
  ]);
  const waitTasks = [...stackTime.waits].map(([stateName, spec]) => [
    stateName,
    // biome-ignore lint/suspicious/noExplicitAny: see above.
    async (input: any) => {
      await settle();
      if (stopped.signal.aborted) return ENDED();
      const override = options.waitTimeOverrides?.[stateName];
      const ms = override ?? waitMilliseconds(spec, input, clock.now());
      await clock.sleep(ms, stopped.signal);
      return input;
    },
  ]);

  run = machine.run(options.input as never, {
    overrides: {
      // biome-ignore lint/suspicious/noExplicitAny: see above.
      taskResourceLocalHandlers: Object.fromEntries([...lambdaTasks, ...waitTasks]) as any,
      retryIntervalOverrides: options.retryIntervalOverrides,
    },
    context: {
      Execution: {
        Id: executionArn,
        Name: options.executionName,
        RedriveCount: options.redriveCount ?? 0,
        [STACK_START_TIME_FIELD]: new Date(options.startTime ?? clock.now()).toISOString(),
      },
      StateMachine: {
        Id: stateMachineArnOf(options.stateMachineName),
        Name: options.stateMachineName,
      },
    },
  });
  const events: EventLog[] = [];
  const collected = (async () => {
    for await (const event of (run as NonNullable<typeof run>).eventLogs) {
      // The engine stamps events with the machine's clock; the stack's may be simulated.
      if (clock !== realClock) event.timestamp = clock.now();
      // A Wait runs as a Task (see stack-time.ts); its events say what it is.
      const state = (event as { state?: { name: string; type: string } }).state;
      if (state && stackTime.waits.has(state.name)) state.type = 'Wait';
      limits.engineEvent(event as Parameters<ExecutionLimits['engineEvent']>[0]);
      events.push(event);
    }
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
    .then(async (result): Promise<ExecutionOutcome> => {
      await Promise.race([collected, new Promise((r) => setTimeout(r, 50))]);
      // A limit ends the execution whatever the engine made of the stop.
      const { breach } = limits;
      if (breach)
        return { status: 'FAILED', error: breach.error, cause: breach.cause, limit: breach };
      return result;
    });
  const abort = () => {
    stopped.abort();
    run?.abort();
  };
  return { executionArn, outcome, events, abort };
}
