import { parentPort, workerData } from 'node:worker_threads';
import type { LambdaHandler } from '../../functions/common/handler.ts';
import type { WorkflowFunctionName } from '../../functions/registry.ts';
import {
  buildHandlers,
  type HandlerFactory,
  type ToWorker,
  type WorkerAnswer,
} from './function-threads.ts';
import { lambdaContext } from './lambda-invoker.ts';

/**
 * One of the local stack's function threads (local/stepfunctions/function-threads.ts): it builds
 * the handler sets it is told to (a factory in a module, since a function cannot be posted to a
 * thread) and runs one invocation per message with a Lambda-like context ending at the deadline
 * the main thread set. What the emulation owns (the timeout, the error's shape, the faults, the
 * counts) stays on the main thread; this thread only runs the handler and posts back its result
 * as JSON, or its error's name, message and stack.
 */

const port = parentPort;
if (!port) throw new Error('function-worker.ts runs only as a worker thread');

type Handlers = Record<WorkflowFunctionName, LambdaHandler>;
const sets = new Map<string, Promise<Handlers>>();

const load = (key: string, factory: HandlerFactory) => {
  const set = buildHandlers(factory);
  // A factory that fails is reported to each invocation of its set, not as an unhandled rejection.
  set.catch(() => undefined);
  sets.set(key, set);
};

for (const [key, factory] of Object.entries(workerData.factories as Record<string, HandlerFactory>))
  load(key, factory);

const answer = (message: WorkerAnswer) => port.postMessage(message);

port.on('message', async (message: ToWorker) => {
  if (message.kind === 'load') {
    load(message.key, message.factory);
    return;
  }
  const { id, key, functionName, payload, requestId, deadline } = message;
  try {
    const set = sets.get(key);
    if (!set) throw new Error(`No handler set "${key}" was loaded on this thread`);
    const handler = (await set)[functionName];
    const result = await handler(payload, lambdaContext(functionName, requestId, deadline));
    // Serialised here, as Lambda serialises a result: undefined becomes null.
    answer({ id, ok: true, json: JSON.stringify(result ?? null) });
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    answer({ id, ok: false, name: e.name, message: e.message, stack: e.stack ?? '' });
  }
});

// Ready: the main thread sends invocations only to a thread that loaded.
port.postMessage({ kind: 'ready' });
