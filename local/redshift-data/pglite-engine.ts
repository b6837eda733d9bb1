import { Worker } from 'node:worker_threads';
import type { WorkerReady, WorkerRequest, WorkerResponse } from './pglite-worker.ts';
import {
  checkDbUser,
  createUserAs,
  type EngineConnection,
  EngineError,
  type EngineResult,
  guardOf,
  type RunOptions,
  runGuarded,
  type SqlEngine,
} from './sql-engine.ts';

/**
 * The embedded engine: PGlite (PostgreSQL in WASM) in a worker thread, so that a long statement
 * does not stop the endpoint from answering.
 *
 * PGlite is one backend, so what a server gives per session is emulated here:
 * - Statements run one at a time. Each runs as its db user (`SET SESSION AUTHORIZATION`, see
 *   pglite-worker.ts), so grants and row-level security apply per user (a separation for testing,
 *   not a security boundary: the backend's login is a superuser). A statement as a role that does
 *   not exist fails with SQLSTATE 28000, as a login would.
 * - A batch in TRANSACTION mode owns the backend until it commits or rolls back: other
 *   connections' statements (and the superuser's catalog queries) wait, as they would on a lock,
 *   instead of running inside its transaction. A user's statement that would leave a transaction
 *   open fails instead ({@link OPEN_TRANSACTION_REFUSED}).
 * - Each connection keeps its own settings and temporary tables: the worker switches the
 *   backend's state between connections (pglite-sessions.ts; what a switch costs is in the
 *   emulator's module comment).
 * - No cancel of a running statement (see {@link EngineConnection.stopsAtOnce}): a
 *   statement run with `commitIf` runs in a transaction of its own (or, inside the caller's
 *   transaction, as part of it) and commits only if `commitIf()` still says so once it has run;
 *   otherwise it is rolled back (or the caller's transaction is failed, as a cancel does on a
 *   server) and fails with SQLSTATE 57014. So a statement the emulator reports ABORTED or FAILED
 *   has left nothing. Transaction-control statements (BEGIN, COMMIT, ...) and those that cannot
 *   run inside a transaction block (VACUUM, ...) run as they are and cannot be undone. A
 *   statement still waiting for its turn is taken out of the queue and fails with SQLSTATE 57014.
 * - `pg_backend_pid()` is the same for everyone, so each connection gets its own made-up pid to
 *   report as `RedshiftPid` (a reused session keeps its pid, as on Redshift).
 */

/** The engine's own statements (catalog queries, demo data) queue as this connection. */
const ADMIN_CONNECTION = 0;

// Distributes Omit over the union's members (a plain Omit would merge them).
// biome-ignore lint/suspicious/noExplicitAny: `any` is how a conditional type distributes
type WithoutId<T> = T extends any ? Omit<T, 'id' | 'connectionId'> : never;

/**
 * Why a statement that would leave a transaction open fails here: one backend serves every
 * session, so an open transaction would hold all of them until it ends.
 */
export const OPEN_TRANSACTION_REFUSED =
  'ERROR: the embedded engine (PGlite) cannot keep a transaction open between statements: one backend serves every session, and an open transaction would hold them all. Send the statements in one BatchExecuteStatement, or run the local stack on PostgreSQL (SPECTRA_LOCAL_DATABASE_URL)';

interface QueuedRequest {
  connectionId: number;
  request: WithoutId<WorkerRequest>;
  resolve: (result: EngineResult) => void;
  reject: (error: Error) => void;
}

export async function createPgliteEngine(): Promise<SqlEngine> {
  const worker = new Worker(new URL('./pglite-worker-bootstrap.mjs', import.meta.url));
  await new Promise<void>((resolve, reject) => {
    const onExit = (code: number) =>
      reject(new Error(`The PGlite worker exited with code ${code} before it was ready`));
    worker.once('error', reject);
    worker.once('exit', onExit);
    worker.once('message', (message: WorkerReady) => {
      worker.off('error', reject);
      worker.off('exit', onExit);
      if (message.ready) resolve();
      else reject(new Error(`PGlite did not start: ${message.message}`));
    });
  });

  const waiting: QueuedRequest[] = [];
  let inFlight: (QueuedRequest & { id: number }) | undefined;
  /** The connection whose transaction is open; only its statements may run. */
  let transactionOwner: number | undefined;
  let nextRequestId = 1;
  let nextConnectionId = ADMIN_CONNECTION + 1;
  let nextPid = 1073741824;
  let closed = false;
  let workerGone: Error | undefined;

  function pump(): void {
    if (inFlight || workerGone) return;
    const index = waiting.findIndex(
      (queued) => transactionOwner === undefined || queued.connectionId === transactionOwner,
    );
    if (index < 0) return;
    const [next] = waiting.splice(index, 1);
    if (!next) return;
    inFlight = { ...next, id: nextRequestId++ };
    worker.postMessage({
      ...next.request,
      id: inFlight.id,
      connectionId: next.connectionId,
    } as WorkerRequest);
  }

  worker.on('message', (response: WorkerResponse) => {
    const answered = inFlight;
    if (!answered || answered.id !== response.id) return;
    inFlight = undefined;
    if (response.transactionStatus === 'I') {
      if (transactionOwner === answered.connectionId) transactionOwner = undefined;
    } else {
      transactionOwner = answered.connectionId;
    }
    if (response.ok) answered.resolve(response.result);
    else answered.reject(new EngineError(response.message, response.sqlState));
    pump();
  });
  const failAll = (error: Error) => {
    workerGone = error;
    const failed = inFlight ? [inFlight, ...waiting] : [...waiting];
    inFlight = undefined;
    waiting.length = 0;
    for (const queued of failed) queued.reject(error);
  };
  worker.on('error', failAll);
  worker.on('exit', (code) =>
    failAll(new EngineError(`ERROR: the PGlite worker exited with code ${code}`, undefined)),
  );

  function send(connectionId: number, request: WithoutId<WorkerRequest>): Promise<EngineResult> {
    if (workerGone) return Promise.reject(workerGone);
    return new Promise((resolve, reject) => {
      waiting.push({ connectionId, request, resolve, reject });
      pump();
    });
  }

  /** Takes a connection's statements out of the queue; they fail with `error`. */
  function dropQueued(connectionId: number, error: EngineError): boolean {
    let dropped = false;
    for (let index = waiting.length - 1; index >= 0; index--) {
      const queued = waiting[index];
      if (queued?.connectionId !== connectionId) continue;
      waiting.splice(index, 1);
      queued.reject(error);
      dropped = true;
    }
    return dropped;
  }

  const admin: SqlEngine['admin'] = (sql, parameters = []) =>
    send(ADMIN_CONNECTION, { op: 'admin', sql, parameters });

  return {
    kind: 'pglite',

    async connect(dbUser: string): Promise<EngineConnection> {
      if (closed) throw new EngineError('ERROR: the engine is closed', undefined);
      checkDbUser(dbUser);
      const connectionId = nextConnectionId++;
      let ended = false;
      const ensureOpen = () => {
        if (ended) throw new EngineError('ERROR: the connection is closed', '08003');
      };
      /**
       * The statement this connection runs now: can it still be undone, and is it kept, once run,
       * by {@link RunOptions.ran} (which counts as PGlite still running it)?
       */
      let current: { undoable: boolean; keptAfterRun: boolean } | undefined;
      const queued = () =>
        inFlight?.connectionId !== connectionId &&
        waiting.some((request) => request.connectionId === connectionId);
      // The engine's own statements that end a transaction run even after close(): the
      // transaction must end, and close()'s own ROLLBACK may already have ended it (harmless).
      const runControl = (sql: string) =>
        send(connectionId, { op: 'run', dbUser, sql, parameters: [] });

      /**
       * A user's statement that left a transaction open (BEGIN, START TRANSACTION) is undone and
       * fails: see {@link OPEN_TRANSACTION_REFUSED}. A batch's own BEGIN is not a user's.
       */
      async function refuseOpenTransaction(): Promise<void> {
        if (transactionOwner !== connectionId) return;
        await send(connectionId, { op: 'admin', sql: 'ROLLBACK', parameters: [] }).catch(
          () => undefined,
        );
        throw new EngineError(OPEN_TRANSACTION_REFUSED, '0A000');
      }

      return {
        backendPid: nextPid++,
        async run(sql, parameters, options: RunOptions = {}) {
          ensureOpen();
          const commitIf = guardOf(sql, options);
          const guarded = commitIf !== undefined;
          const wasInTransaction = transactionOwner === connectionId;
          const statement = { undoable: guarded, keptAfterRun: false };
          current = statement;
          const runAsItIs = () => send(connectionId, { op: 'run', dbUser, sql, parameters });
          try {
            if (guarded) {
              return await runGuarded(
                {
                  inCallerTransaction: wasInTransaction,
                  run: runAsItIs,
                  runInOwnTransaction: () =>
                    send(connectionId, { op: 'run', dbUser, sql, parameters, begin: true }),
                  control: runControl,
                  committing: () => {
                    statement.undoable = false;
                  },
                  ran: async () => {
                    statement.keptAfterRun = true;
                    try {
                      await options.ran?.();
                    } finally {
                      statement.keptAfterRun = false;
                    }
                  },
                },
                commitIf,
              );
            }
            const result = await runAsItIs();
            if (!options.batchControl && !wasInTransaction) await refuseOpenTransaction();
            return result;
          } finally {
            current = undefined;
          }
        },
        stopsAtOnce() {
          // Queued, or held before it runs, it is taken out at once; in the worker, or kept once it
          // has run (a hold at RAN stands for a longer run), it runs to its end.
          return inFlight?.connectionId !== connectionId && !current?.keptAfterRun;
        },
        canStop() {
          return current === undefined || current.undoable || queued();
        },
        async runScript(sql) {
          ensureOpen();
          await send(connectionId, { op: 'script', dbUser, sql });
        },
        async cancel() {
          return dropQueued(
            connectionId,
            new EngineError('ERROR: canceling statement due to user request', '57014'),
          );
        },
        async close() {
          if (ended) return;
          ended = true;
          dropQueued(connectionId, new EngineError('ERROR: the connection is closed', '08003'));
          // What a server does when a client leaves mid-transaction; it also frees the backend
          // for the connections waiting on this one.
          if (transactionOwner === connectionId || inFlight?.connectionId === connectionId)
            // As the superuser: it gets through whatever state the transaction is in.
            await send(connectionId, { op: 'admin', sql: 'ROLLBACK', parameters: [] }).catch(
              () => undefined,
            );
          // Its temporary tables go, as at the end of a server's session.
          await send(connectionId, { op: 'end-session' }).catch(() => undefined);
        },
      };
    },

    admin,

    createUser: (dbUser) => createUserAs(admin, dbUser),

    async close() {
      if (closed) return;
      closed = true;
      const stopped = new EngineError('ERROR: the engine is closed', undefined);
      for (const queued of waiting.splice(0)) queued.reject(stopped);
      if (!workerGone) {
        // Ends the transaction owner's hold, so the close request is the next to run.
        transactionOwner = undefined;
        await send(ADMIN_CONNECTION, { op: 'close' }).catch(() => undefined);
      }
      await worker.terminate();
    },
  };
}
