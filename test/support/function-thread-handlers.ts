import { isMainThread, threadId } from 'node:worker_threads';
import type { LambdaHandler } from '../../functions/common/handler.ts';
import { WORKFLOW_FUNCTIONS, type WorkflowFunctionName } from '../../functions/registry.ts';

/**
 * Handler factories for the function threads' tests (local/stepfunctions/function-threads.ts):
 * a thread builds its handlers from a module's export, so the test's handlers live here.
 */

const every = (handler: LambdaHandler) =>
  Object.fromEntries(WORKFLOW_FUNCTIONS.map((fn) => [fn.name, handler])) as Record<
    WorkflowFunctionName,
    LambdaHandler
  >;

/** Handlers that answer where they ran and what context they were given. */
export async function reportingHandlers() {
  return every(async (event, context) => ({
    event,
    isMainThread,
    threadId,
    functionName: context.functionName,
    awsRequestId: context.awsRequestId,
    remainingMs: context.getRemainingTimeInMillis(),
    // Lambda serialises the result: a Date becomes its ISO text, undefined leaves.
    at: new Date(0),
    missing: undefined,
  }));
}

/** Handlers that never return. */
export async function hangingHandlers() {
  return every(() => new Promise(() => {}));
}

/** Handlers that end their thread, as a runtime that crashes does. */
export async function exitingHandlers() {
  return every(async () => process.exit(7));
}

export const FACTORY_MODULE = import.meta.url;
