import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadHandler } from '../../functions/registry.ts';
import { SimulatedClock } from '../../local/clock.ts';
import { LOCAL_SESSIONS_TABLE_NAME } from '../../local/identity.ts';
import { readFunctionThreads } from '../../local/stack.ts';
import {
  DEFAULT_FUNCTION_THREADS,
  FunctionThreads,
} from '../../local/stepfunctions/function-threads.ts';
import { invokeLocally, LambdaInvocationError } from '../../local/stepfunctions/lambda-invoker.ts';
import { FACTORY_MODULE } from '../support/function-thread-handlers.ts';
import { IMMEDIATE_RETRIES, startTestStack, useStackWithApi } from '../support/local-stack.ts';

/**
 * The workflow's functions on worker threads (local/stepfunctions/function-threads.ts): the pool
 * on its own, through the stack's Lambda invoker, with time moved by the test where a timeout is
 * checked; and a local stack whose functions all run on threads, over HTTP with the real SDK.
 */

process.env.SPECTRA_DYNAMODB_SESSIONS_TABLE_NAME = LOCAL_SESSIONS_TABLE_NAME;

const factory = (exportName: string) => ({ moduleUrl: FACTORY_MODULE, exportName });

/** What a rejected invocation was rejected with. */
const failureOf = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('the invocation succeeded');
    },
    (error: unknown) => error as Error,
  );

describe('FunctionThreads', () => {
  let threads: FunctionThreads;

  beforeAll(async () => {
    threads = await FunctionThreads.start(2);
  }, 60_000);

  afterEach(() => {
    vi.useRealTimers();
  });

  afterAll(async () => {
    await threads?.close();
  });

  it('runs a handler off the main thread with a Lambda context and returns its result as Lambda serialises it', async () => {
    // Prepare
    const handlers = threads.handlersOf(factory('reportingHandlers'));

    // Act
    const { Payload } = await invokeLocally('PollStatus', handlers.PollStatus, { step: 1 });

    // Assess
    expect(Payload).toEqual({
      event: { step: 1 },
      isMainThread: false,
      threadId: expect.any(Number),
      functionName: 'spectra-PollStatus',
      awsRequestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      remainingMs: expect.any(Number),
      at: '1970-01-01T00:00:00.000Z',
    });
    const { remainingMs } = Payload as { remainingMs: number };
    // The thread's context ends where the invoker's does: PollStatus has 60 s.
    expect(remainingMs).toBeGreaterThan(0);
    expect(remainingMs).toBeLessThanOrEqual(60_000);
  });

  it('fails an invocation that outlasts its timeout on a thread with Sandbox.Timedout', async () => {
    // Prepare: a handler that never returns; the invoker's timer (on the main thread) is fake
    const handlers = threads.handlersOf(factory('hangingHandlers'));
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const outcome = failureOf(invokeLocally('AcquireSession', handlers.AcquireSession, {}));

    // Act
    await vi.advanceTimersByTimeAsync(30_000);
    const error = await outcome;

    // Assess
    expect(error).toBeInstanceOf(LambdaInvocationError);
    expect(error.name).toBe('Sandbox.Timedout');
    expect(JSON.parse(error.message)).toMatchObject({
      errorType: 'Sandbox.Timedout',
      errorMessage: expect.stringMatching(/Task timed out after 30\.00 seconds$/),
    });
  });

  it('fails the invocation of a thread that dies with Runtime.ExitError, and replaces the thread', async () => {
    // Prepare
    const exiting = threads.handlersOf(factory('exitingHandlers'));
    const reporting = threads.handlersOf(factory('reportingHandlers'));

    // Act
    const error = await failureOf(invokeLocally('SubmitQuery', exiting.SubmitQuery, {}));
    const after = await Promise.all(
      [1, 2].map((step) => invokeLocally('PollStatus', reporting.PollStatus, { step })),
    );

    // Assess
    expect(error).toBeInstanceOf(LambdaInvocationError);
    expect(error.name).toBe('Runtime.ExitError');
    expect(JSON.parse(error.message)).toMatchObject({
      errorType: 'Runtime.ExitError',
      errorMessage: expect.stringMatching(/Runtime exited with error: exit code 7$/),
    });
    expect(
      after.map((result) => (result.Payload as { step?: number; event: unknown }).event),
    ).toEqual([{ step: 1 }, { step: 2 }]);
    // Both threads again (one still runs the timed-out handler above, as a thread does not stop it).
    await threads.untilFull();
    expect(threads.inFlight()).toHaveLength(2);
  });
});

describe('Local stack: the workflow with its functions on threads', () => {
  process.env.SPECTRA_SUBMIT_WAIT_SECONDS = '1';
  process.env.SPECTRA_POLL_WAIT_SECONDS = '1';
  const { api, stack } = useStackWithApi({
    functionThreads: 2,
    retryIntervalOverrides: IMMEDIATE_RETRIES,
  });
  const run = async (input: unknown) =>
    api().waitForEnd(await api().start(randomUUID(), input), Date.now() + 60_000);

  it('runs a query end to end, and reuses its session for the next one', async () => {
    // Act
    const first = await run({ tenantId: 'acme', sql: 'select count(*) as sales from sales' });
    const second = await run({ tenantId: 'acme', sql: 'select count(*) as sales from sales' });

    // Assess
    expect(stack().functionThreads).toBe(2);
    expect(first.status).toBe('SUCCEEDED');
    expect(first.output).toMatchObject({ tenantId: 'acme', sessionReused: false, rowCount: 1 });
    expect(second.output).toEqual(
      expect.objectContaining({ sessionReused: true, sessionId: first.output?.sessionId }),
    );
  });

  it('ends an execution with the Spectra error a thread threw, named as in process', async () => {
    // Prepare: what the same function throws for the same input in process
    const invalidRequest = { tenantId: 'acme/../globex', sql: '' };
    const inProcess = await failureOf(
      invokeLocally('AcquireSession', await loadHandler('AcquireSession'), {
        request: invalidRequest,
        executionArn: 'arn:aws:states:us-east-1:000000000000:execution:spectra-query:in-process',
        startTime: new Date().toISOString(),
        redriveCount: 0,
      }),
    );

    // Act
    const failed = await run({ tenantId: 'initech', sql: 'select * from no_such_table' });
    const invalid = await run(invalidRequest);

    // Assess
    expect([failed.status, failed.error]).toEqual(['FAILED', 'QueryFailedError']);
    expect(String((failed.cause as { redshiftError?: string }).redshiftError)).toContain(
      'no_such_table',
    );
    expect(inProcess.name).toBe('InvalidInputError');
    expect([invalid.status, invalid.error]).toEqual(['FAILED', inProcess.name]);
  });
});

describe('Function: readFunctionThreads', () => {
  it.each([
    [undefined, 0],
    ['', 0],
    ['0', 0],
    ['3', 3],
    ['auto', DEFAULT_FUNCTION_THREADS],
  ])('reads %j as %i threads', (value, count) => {
    // Act & Assess
    expect(readFunctionThreads(value)).toBe(count);
  });

  it.each(['-1', '1.5', 'two', '65'])('throws for %j, naming what is allowed', (value) => {
    // Act & Assess
    expect(() => readFunctionThreads(value)).toThrow(
      new RegExp(`^SPECTRA_LOCAL_FUNCTION_THREADS must be 0 .* or "auto" .*; got "${value}"$`),
    );
  });
});

describe('Local stack: function threads on a simulated clock', () => {
  it('refuses them, since the functions must read the clock on the main thread', async () => {
    // Act
    const started = startTestStack({ clock: new SimulatedClock(), functionThreads: 2 });

    // Assess
    await expect(started).rejects.toThrow(
      'functionThreads cannot be used with a simulated clock: the clock lives on the main thread, so the functions run in process on it',
    );
  });
});
