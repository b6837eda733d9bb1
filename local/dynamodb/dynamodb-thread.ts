import type { IncomingMessage, ServerResponse } from 'node:http';
import { Worker } from 'node:worker_threads';
import { DYNALITE_OPTIONS } from './sessions-table.ts';

/**
 * The stack's DynamoDB (dynalite) on a worker thread, behind the stack's one port: the endpoint
 * reads each DynamoDB request and hands it to the worker, which answers it.
 *
 * Why a thread: on AWS, DynamoDB runs on machines of its own; in one Node process it would share
 * the event loop with the functions, the Step Functions emulator and whatever drives them. Measured
 * on the benchmark's concurrent workload (bench/experiments/concurrent-profile.ts, 300 queries, 16
 * at once, 2 cores, load 1.2), sharing the loop made DynamoDB the pool's bottleneck: an UpdateItem
 * took 19 ms (p95 65 ms) inside dynalite, for about 1.5 ms of CPU, because each of its internal
 * steps (table lookup, item lock, read, index update, write) waits its turn on a loop that was
 * busy 100% of the time; a Query 3 ms, a PutItem 34 ms. A query of Spectra makes about 6.8 such
 * requests, where a query that opens a session every time makes none, so the emulation charged
 * the pool for a queue that AWS does not have. On its own thread dynalite's steps run on a loop
 * of their own, and its CPU is taken off the loop everything else runs on; what stays on that loop
 * is what stays on a caller's machine on AWS: its SDK client's work, and the HTTP exchange.
 *
 * The endpoint still routes, counts and faults every DynamoDB request (local/endpoint.ts) before
 * it gets here; only the service's own work moves.
 */
export interface DynamoDbThread {
  /** Answers one DynamoDB request of the endpoint (a RawService listener). */
  listener(req: IncomingMessage, res: ServerResponse): void;
  close(): Promise<void>;
}

interface Answer {
  id: number;
  statusCode: number;
  headers: Record<string, string>;
  body: Uint8Array;
}

const WORKER_URL = new URL('./dynalite-worker.mjs', import.meta.url);

export async function startDynamoDbThread(): Promise<DynamoDbThread> {
  const worker = new Worker(WORKER_URL, { workerData: { options: DYNALITE_OPTIONS } });
  const pending = new Map<number, ServerResponse>();
  let nextId = 0;
  let failure: Error | undefined;

  const fail = (res: ServerResponse, error: Error) => {
    if (res.headersSent) return;
    res.writeHead(500, { 'content-type': 'application/x-amz-json-1.0' });
    res.end(JSON.stringify({ __type: 'InternalServerError', message: error.message }));
  };
  await new Promise<void>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', () => {
      worker.off('error', reject);
      resolve();
    });
  });
  worker.on('message', (answer: Answer) => {
    const res = pending.get(answer.id);
    if (!res) return;
    pending.delete(answer.id);
    res.writeHead(answer.statusCode, answer.headers);
    res.end(Buffer.from(answer.body.buffer, answer.body.byteOffset, answer.body.byteLength));
  });
  // A dead worker fails what it held and every request after, instead of leaving them unanswered.
  worker.on('error', (error) => {
    failure = error;
    for (const res of pending.values()) fail(res, error);
    pending.clear();
  });
  // The stack's server holds the process open while it runs; the worker alone never does.
  worker.unref();

  return {
    listener(req, res) {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        if (failure) return fail(res, failure);
        const id = nextId++;
        pending.set(id, res);
        const body = Buffer.concat(chunks);
        // Copied, not transferred: a small Buffer is a slice of Node's shared pool.
        worker.postMessage({ id, method: req.method, url: req.url, headers: req.headers, body });
      });
    },
    async close() {
      await worker.terminate();
    },
  };
}
