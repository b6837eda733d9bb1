import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import {
  InvalidInputError,
  QueryTimeoutError,
  StaleSessionError,
} from '../../functions/common/errors.ts';
import { handlerMiddlewares } from '../../functions/common/middlewares.ts';
import { ERROR_MESSAGE_MAX_BYTES } from '../../functions/common/payload-limits.ts';
import { lambdaContext as context } from '../support/lambda-context.ts';

/** A handler wrapped as every Spectra handler is, that throws `error`. */
const throwing = (error: unknown) =>
  middy<unknown, unknown, Error, Context>()
    .use(handlerMiddlewares)
    .handler(async () => {
      throw error;
    });

async function thrownBy(error: unknown): Promise<Error> {
  try {
    await throwing(error)({}, context);
  } catch (thrown) {
    return thrown as Error;
  }
  throw new Error('expected the handler to throw');
}

/** What the Lambda runtime reports to Step Functions as the step's Cause. */
const lambdaCause = (error: Error) =>
  JSON.stringify({
    errorType: error.name,
    errorMessage: error.message,
    trace: (error.stack ?? '').split('\n'),
  });

describe('Middleware: the error boundary of every handler', () => {
  it.each([
    new InvalidInputError('Invalid input: tenantId is required'),
    new StaleSessionError('The Data API refused session s-1'),
    new QueryTimeoutError('The query ran past its timeout'),
  ])('passes $name on as it is', async (error) => {
    const thrown = await thrownBy(error);

    expect(thrown.name).toBe(error.name);
    expect(thrown.message).toBe(error.message);
  });

  it("names Middy's early timeout TransientServiceError, so that the step is retried", async () => {
    const timeout = Object.assign(new Error('[AbortError]: The operation was aborted.'), {
      name: 'TimeoutError',
    });

    const thrown = await thrownBy(timeout);

    expect(thrown.name).toBe('TransientServiceError');
    expect(thrown.message).toContain('TimeoutError');
  });

  it.each([
    ['a defect', new TypeError("Cannot read properties of undefined (reading 'id')")],
    [
      'a missing permission',
      Object.assign(new Error('not authorized'), {
        name: 'AccessDeniedException',
        $metadata: { httpStatusCode: 400 },
      }),
    ],
  ])('names %s UnexpectedError, keeping the original name in the message', async (_, error) => {
    const thrown = await thrownBy(error);

    expect(thrown.name).toBe('UnexpectedError');
    expect(thrown.message).toBe(`${error.name}: ${error.message}`);
  });

  it('cuts a long message and reports it once, the stack keeping only its frames', async () => {
    const thrown = await thrownBy(new Error(`boom ${'x'.repeat(100 * 1024)}`));

    expect(Buffer.byteLength(thrown.message)).toBeLessThanOrEqual(ERROR_MESSAGE_MAX_BYTES);
    expect(thrown.message).toMatch(/\[cut: \d+ bytes in all\]$/);
    const cause = lambdaCause(thrown);
    expect(cause.split('boom').length - 1).toBe(1);
    expect(Buffer.byteLength(cause)).toBeLessThan(ERROR_MESSAGE_MAX_BYTES + 2048);
    expect((thrown.stack ?? '').split('\n').every((line) => /^\s+at /.test(line))).toBe(true);
  });
});
