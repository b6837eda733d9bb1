import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { type AcquireSessionEvent, acquireSession } from '../../functions/acquire-session.ts';
import type { StepDeps } from '../../functions/common/deps.ts';
import { handlerMiddlewares } from '../../functions/common/middlewares.ts';
import { fetchResults } from '../../functions/fetch-results.ts';
import { invalidateSession } from '../../functions/invalidate-session.ts';
import { pollStatus } from '../../functions/poll-status.ts';
import type { WorkflowFunctionName } from '../../functions/registry.ts';
import { releaseSession } from '../../functions/release-session.ts';
import { submitQuery } from '../../functions/submit.ts';
import type { LambdaHandler } from './lambda-invoker.ts';

/**
 * The workflow's handlers on deps of the caller's: the core functions of functions/*.ts, each
 * wrapped as its module's `handler` is, but bound to these deps instead of the module's
 * defaults. The local stack builds them on its own clock (a simulated one runs the functions on
 * simulated time too); the benchmark on the configurations of the designs it compares.
 *
 * This module imports the functions, whose modules build their SDK clients and read their
 * configuration on load: import it only once the local stack has set the environment.
 */

type Core = (event: unknown, context: Context) => Promise<unknown>;

/** A core function wrapped as the real handlers wrap theirs. */
function wrap(core: Core): LambdaHandler {
  return middy<unknown, unknown, Error, Context>()
    .use(handlerMiddlewares)
    .handler((event, context) => core(event, context));
}

export function handlersFor(deps: StepDeps): Record<WorkflowFunctionName, LambdaHandler> {
  return {
    AcquireSession: wrap((event) => acquireSession(event as AcquireSessionEvent, deps)),
    SubmitQuery: wrap((event, context) =>
      submitQuery(event, deps, context.getRemainingTimeInMillis?.()),
    ),
    PollStatus: wrap((event, context) =>
      pollStatus(event, deps, context.getRemainingTimeInMillis?.()),
    ),
    FetchResults: wrap((event) => fetchResults(event, deps)),
    InvalidateSession: wrap((event) => invalidateSession(event, deps)),
    ReleaseSession: wrap((event) => releaseSession(event, deps)),
  };
}
