import middy, { type MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import type { ZodType } from 'zod';
import type { FunctionName } from '../registry.ts';
import { fieldOf } from './execution-input.ts';
import { handlerMiddlewares } from './middlewares.ts';
import { type InvocationKeys, type Telemetry, tagInvocation } from './observability.ts';
import type { QueryState } from './workflow-state.ts';

/**
 * How every function becomes a Lambda handler: {@link stepHandler} wraps a core function, which
 * takes its step's typed state, its deps and what it knows of the invocation, in the middlewares
 * every handler has (functions/common/middlewares.ts), then in {@link parseState}: the event is
 * read into the state the core expects, in the way of Powertools' parser middleware, and the
 * invocation is tagged with the tenant and ids the state names.
 */

/** A Lambda handler as the runtime calls it (and the local stack's invoker, in process). */
export type LambdaHandler = (event: unknown, context: Context) => Promise<unknown>;

/** What a core knows of its invocation besides its state. */
export interface Invocation {
  /** Milliseconds until Lambda stops the invocation; absent outside Lambda. */
  remainingMs?: number;
}

export type StepCore<State, Deps, Result> = (
  state: State,
  deps: Deps,
  invocation: Invocation,
) => Promise<Result>;

export interface StepOptions<State, Deps> {
  /** The function's name (functions/registry.ts), which a state it cannot read is refused with. */
  step: FunctionName;
  /**
   * What the event must be: a schema of the workflow's state (a mismatch is refused by
   * {@link parseStepInput}), or the function's own reading of an event that is not a step's.
   */
  state: ZodType<State> | ((event: unknown) => State);
  /** What the module's handler runs on; {@link StepHandler.withDeps} builds one on others. */
  deps: Deps;
  /** The keys every log line and metric of the invocation carries; none when it names no tenant. */
  tags?: (state: State) => InvocationKeys | undefined;
}

/** A function's handler, which can be built again on deps of the caller's. */
export interface StepHandler<Deps> extends LambdaHandler {
  /** The same handler on `deps`: the local stack's clock, the benchmark's configurations. */
  withDeps(deps: Deps): LambdaHandler;
}

/**
 * Parses what the state machine handed a step. A mismatch here is a defect in the definition, not
 * bad user input, so it throws a plain `Error` (no retry, no catch by name).
 */
export function parseStepInput<T>(schema: ZodType<T>, input: unknown, step: string): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map(
    (issue) => `${fieldOf(issue.path) || '(root)'}: ${issue.message}`,
  );
  throw new Error(`${step} received a state it cannot read: ${problems.join('; ')}`);
}

/**
 * A `before` middleware that replaces the event with the state read from it, and tags the
 * invocation with the keys it names. It runs after Powertools' own, which reset the logger's keys
 * at the start of each invocation; an event it cannot read goes to the error boundary as any
 * error thrown by the core does.
 */
export function parseState<State>(
  read: (event: unknown) => State,
  telemetry: Telemetry,
  tags?: (state: State) => InvocationKeys | undefined,
): MiddlewareObj {
  return {
    before: (request) => {
      const state = read(request.event);
      request.event = state;
      const keys = tags?.(state);
      if (keys) tagInvocation(telemetry, keys);
    },
  };
}

/** The keys of a workflow step's invocation: the tenant, and the ids its state names so far. */
export function workflowTags(state: QueryState): InvocationKeys {
  return {
    tenantId: state.query.tenantId,
    executionArn: state.executionArn,
    statementId: state.statement?.statementId,
    sessionId: state.session.sessionId,
  };
}

/** The Lambda handler of `core`, on the deps of `options`, and on others through `withDeps`. */
export function stepHandler<State, Deps extends { telemetry: Telemetry }, Result>(
  core: StepCore<State, Deps, Result>,
  options: StepOptions<State, Deps>,
): StepHandler<Deps> {
  const { step, state, tags } = options;
  const read =
    typeof state === 'function'
      ? state
      : (event: unknown) => parseStepInput(state as ZodType<State>, event, step);
  const on = (deps: Deps): LambdaHandler =>
    middy<unknown, unknown, Error, Context>()
      .use(handlerMiddlewares)
      .use(parseState(read, deps.telemetry, tags))
      // The event is the state parseState put in its place.
      .handler((parsed, context) =>
        core(parsed as State, deps, { remainingMs: context.getRemainingTimeInMillis?.() }),
      );
  return Object.assign(on(options.deps), { withDeps: on });
}
