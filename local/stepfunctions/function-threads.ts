import { availableParallelism } from 'node:os';
import { SHARE_ENV, Worker } from 'node:worker_threads';
import type { LambdaHandler } from '../../functions/common/handler.ts';
import { WORKFLOW_FUNCTIONS, type WorkflowFunctionName } from '../../functions/registry.ts';

/**
 * The workflow's Lambda handlers on a small pool of worker threads, so that the functions' CPU is
 * not spent on the event loop the Step Functions emulator, the endpoint and the Data API emulator
 * answer on. On AWS every invocation has a sandbox and a CPU of its own; in one loop each
 * invocation's work would delay every other service's answer, and charge a design that makes more
 * round trips (Spectra's pool, on DynamoDB) for a queue that AWS does not have. The same reasoning
 * put DynamoDB on its own thread (local/dynamodb/dynamodb-thread.ts).
 *
 * The threads only run handlers. Everything the emulation owns stays on the main thread, in
 * local/stepfunctions/lambda-invoker.ts and local/stack.ts: the timeout (`Sandbox.Timedout`),
 * the error's shape, the fault controls, the in-flight count and the hit rate. The handlers this
 * module hands out are stand-ins with the LambdaHandler signature that post the invocation to a
 * thread and settle with its answer: the result as Lambda serialises it, or an Error carrying the
 * thrown error's name, message and stack (the state machine's Retry and Catch match the name).
 *
 * A thread cannot be handed a function, so each set of handlers is named by a factory: a module's
 * URL and the name of an export that returns `Record<WorkflowFunctionName, LambdaHandler>`
 * (the real ones: `loadHandlers` of functions/registry.ts). Every thread builds every set, and an
 * invocation goes to the thread with the fewest in flight: invocations of one execution may land
 * on any thread, as Lambda sandboxes share nothing either. The threads share the stack's
 * environment (`SHARE_ENV`): the endpoint, region, credentials and `SPECTRA_*` it configured,
 * and what a test changes later, as the in-process functions see it.
 *
 * A thread that dies fails its invocations in flight with `Runtime.ExitError`, as Lambda reports a
 * runtime that exited, and is replaced.
 */

/** Where a thread builds a set of handlers: a module URL and the export that returns them. */
export interface HandlerFactory {
  moduleUrl: string;
  exportName: string;
}

/** Messages to a function thread. */
export type ToWorker =
  | { kind: 'load'; key: string; factory: HandlerFactory }
  | {
      kind: 'invoke';
      id: number;
      key: string;
      functionName: WorkflowFunctionName;
      payload: unknown;
      requestId: string;
      /** When the invocation's time is up, epoch ms (the context's getRemainingTimeInMillis). */
      deadline: number;
    };

/** A function thread's answer to one invocation. */
export type WorkerAnswer =
  | { id: number; ok: true; json: string }
  | { id: number; ok: false; name: string; message: string; stack: string };

/**
 * One thread per core by default (2 on the machines the stack and the benchmark run on): each
 * thread runs one invocation's CPU at a time, so fewer threads than cores queues invocations
 * behind each other's CPU as the shared loop did, and more cannot run at once anyway, while each
 * costs its own copy of the SDK and the functions (tens of MB). The main thread, DynamoDB's and
 * PGlite's threads share those cores too; they are mostly waiting on one another.
 */
export const DEFAULT_FUNCTION_THREADS = Math.max(1, availableParallelism());

type Handlers = Record<WorkflowFunctionName, LambdaHandler>;

/** The handlers `factory` builds, on the calling thread (a function thread, or the stack's). */
export async function buildHandlers({ moduleUrl, exportName }: HandlerFactory): Promise<Handlers> {
  const module = (await import(moduleUrl)) as Record<string, unknown>;
  const build = module[exportName];
  if (typeof build !== 'function')
    throw new Error(`${moduleUrl} exports no handler factory named "${exportName}"`);
  return (await build()) as Handlers;
}

interface Pending {
  requestId: string;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

interface FunctionThread {
  worker: Worker;
  pending: Map<number, Pending>;
}

const WORKER_URL = new URL('./function-worker-bootstrap.mjs', import.meta.url);

/** An error of the name and message Lambda gives a runtime that exited during an invocation. */
function runtimeExited(requestId: string, detail: string): Error {
  const error = new Error(`RequestId: ${requestId} Error: Runtime exited with error: ${detail}`);
  error.name = 'Runtime.ExitError';
  return error;
}

/** The thrown error as the thread reported it, with its own name (Spectra's error names). */
function errorOf(answer: Extract<WorkerAnswer, { ok: false }>): Error {
  const error = new Error(answer.message);
  error.name = answer.name;
  error.stack = answer.stack;
  return error;
}

export class FunctionThreads {
  private readonly threads: FunctionThread[] = [];
  private readonly factories = new Map<string, HandlerFactory>();
  private nextId = 0;
  private closing = false;
  /** The replacement of a thread that died, while it starts. */
  private replacing: Promise<void> | undefined;

  private constructor(readonly count: number) {}

  /** Starts `count` threads, each ready to build handler sets. */
  static async start(count: number = DEFAULT_FUNCTION_THREADS): Promise<FunctionThreads> {
    if (!Number.isInteger(count) || count < 1)
      throw new Error(`The function threads must be a whole number of at least 1; got ${count}`);
    const pool = new FunctionThreads(count);
    try {
      await Promise.all(Array.from({ length: count }, () => pool.startThread()));
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  /**
   * The handlers `factory` builds, run on the threads. Each thread builds them as it gets the
   * message, before any invocation of them it gets after; a factory that fails fails each
   * invocation with its error.
   */
  handlersOf(factory: HandlerFactory): Handlers {
    const key = `${factory.moduleUrl}#${factory.exportName}`;
    if (!this.factories.has(key)) {
      this.factories.set(key, factory);
      for (const thread of this.threads)
        thread.worker.postMessage({ kind: 'load', key, factory } satisfies ToWorker);
    }
    const entries = WORKFLOW_FUNCTIONS.map((fn): [WorkflowFunctionName, LambdaHandler] => [
      fn.name,
      (payload, context) =>
        this.invoke({
          kind: 'invoke',
          id: this.nextId++,
          key,
          functionName: fn.name,
          payload,
          requestId: context.awsRequestId,
          deadline: Date.now() + context.getRemainingTimeInMillis(),
        }),
    ]);
    return Object.fromEntries(entries) as Handlers;
  }

  /** Invocations in flight per thread (what the dispatch balances). */
  inFlight(): number[] {
    return this.threads.map((thread) => thread.pending.size);
  }

  /** Settles once a thread that died has been replaced (or its replacement failed to start). */
  async untilFull(): Promise<void> {
    await this.replacing;
  }

  async close(): Promise<void> {
    this.closing = true;
    const threads = this.threads.splice(0);
    await Promise.all(threads.map((thread) => thread.worker.terminate()));
  }

  private async invoke(message: Extract<ToWorker, { kind: 'invoke' }>): Promise<unknown> {
    if (this.threads.length === 0) await this.replacing;
    const thread = this.threads.reduce<FunctionThread | undefined>(
      (least, candidate) =>
        least === undefined || candidate.pending.size < least.pending.size ? candidate : least,
      undefined,
    );
    if (!thread) throw runtimeExited(message.requestId, 'no function thread is running');
    return new Promise((resolve, reject) => {
      thread.pending.set(message.id, { requestId: message.requestId, resolve, reject });
      thread.worker.postMessage(message satisfies ToWorker);
    });
  }

  private async startThread(): Promise<void> {
    const worker = new Worker(WORKER_URL, {
      env: SHARE_ENV,
      workerData: { factories: Object.fromEntries(this.factories) },
    });
    const thread: FunctionThread = { worker, pending: new Map() };
    await new Promise<void>((resolve, reject) => {
      const onExit = (code: number) =>
        reject(new Error(`A function thread exited with code ${code} before it was ready`));
      worker.once('error', reject);
      worker.once('exit', onExit);
      worker.once('message', () => {
        worker.off('error', reject);
        worker.off('exit', onExit);
        resolve();
      });
    });
    worker.on('message', (answer: WorkerAnswer) => {
      const pending = thread.pending.get(answer.id);
      if (!pending) return;
      thread.pending.delete(answer.id);
      if (answer.ok) pending.resolve(JSON.parse(answer.json));
      else pending.reject(errorOf(answer));
    });
    let failure = '';
    worker.on('error', (error) => {
      failure = `${error.name}: ${error.message}`;
    });
    worker.on('exit', (code) => {
      const index = this.threads.indexOf(thread);
      if (index >= 0) this.threads.splice(index, 1);
      for (const pending of thread.pending.values())
        pending.reject(runtimeExited(pending.requestId, failure || `exit code ${code}`));
      thread.pending.clear();
      // A replacement keeps the pool at its size; one that cannot start leaves it smaller.
      if (!this.closing) {
        const replacing = this.startThread().catch(() => undefined);
        this.replacing = replacing;
        replacing.finally(() => {
          if (this.replacing === replacing) this.replacing = undefined;
        });
      }
    });
    // The stack's server holds the process open while it runs; the threads alone never do.
    worker.unref();
    this.threads.push(thread);
  }
}
