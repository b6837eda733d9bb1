import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { LambdaHandler } from '../../functions/common/handler.ts';
import { FUNCTIONS } from '../../functions/registry.ts';
import { invokeLocally, LambdaInvocationError } from '../../local/stepfunctions/lambda-invoker.ts';

/**
 * The local stack's Lambda invoker against each function's timeout, on fake timers: time moves
 * only when the test moves it.
 */

describe('Function: invokeLocally', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it.each(FUNCTIONS.map((fn) => [fn.name, fn.timeoutSeconds] as const))(
    'gives %s its own timeout (%i s) as the time it has left',
    async (name, timeoutSeconds) => {
      // Prepare
      let remaining: number | undefined;
      const handler: LambdaHandler = async (_event, context) => {
        remaining = context.getRemainingTimeInMillis();
        return { ok: true };
      };

      // Act
      const result = await invokeLocally(name, handler, {});

      // Assess
      expect(remaining).toBe(timeoutSeconds * 1000);
      expect(result).toEqual({
        Payload: { ok: true },
        StatusCode: 200,
        ExecutedVersion: '$LATEST',
      });
    },
  );

  it('fails an invocation that outlasts the function’s timeout with Sandbox.Timedout, as Lambda does', async () => {
    // Prepare: a handler that never returns
    const handler: LambdaHandler = () => new Promise(() => {});
    const outcome = invokeLocally('AcquireSession', handler, {}).catch((error: unknown) => error);

    // Act
    await vi.advanceTimersByTimeAsync(29_999);
    const early = await Promise.race([outcome, Promise.resolve('still running')]);
    await vi.advanceTimersByTimeAsync(1);
    const error = await outcome;

    // Assess
    expect(early).toBe('still running');
    expect(error).toBeInstanceOf(LambdaInvocationError);
    expect((error as Error).name).toBe('Sandbox.Timedout');
    expect(JSON.parse((error as Error).message)).toMatchObject({
      errorType: 'Sandbox.Timedout',
      errorMessage: expect.stringMatching(/Task timed out after 30\.00 seconds$/),
    });
  });
});
