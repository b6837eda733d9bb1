import type { MiddlewareObj } from '@middy/core';
import {
  isTransientAwsError,
  SpectraError,
  TransientServiceError,
  UnexpectedError,
} from './errors.ts';
import { powertoolsMiddlewares } from './observability.ts';
import { clipText, ERROR_MESSAGE_MAX_BYTES } from './payload-limits.ts';

/**
 * What every handler is wrapped in: {@link handlerMiddlewares}.
 *
 * The error boundary is where an error leaves a function. Lambda reports a thrown error to Step Functions as
 * `{errorType, errorMessage, trace}`: the name is what the state machine's `ErrorEquals` match,
 * and the JSON is the step's `Cause`. So every error that leaves a handler goes through here:
 *
 * - its name is one of the error contract's (functions/common/errors.ts). Spectra's own errors
 *   pass as they are; Middy's early timeout and a transient AWS error that escaped its step are a
 *   {@link TransientServiceError}; anything else (a defect, a missing permission) is an
 *   {@link UnexpectedError} whose message names the original error;
 * - its message is cut to {@link ERROR_MESSAGE_MAX_BYTES}, and its stack keeps only the frames:
 *   V8 writes the message as the stack's first line, which would put it in the `Cause` twice.
 */

/** Stack frames kept: enough to find a defect, few enough to keep the cause small. */
const MAX_STACK_FRAMES = 10;

/** The error as the contract names it. */
export function contractErrorOf(error: unknown): Error {
  if (error instanceof SpectraError) return error;
  const original = error instanceof Error ? error : new Error(String(error));
  // Middy's guard just before the Lambda's deadline: the step may be retried.
  const named =
    original.name === 'TimeoutError' || isTransientAwsError(original)
      ? new TransientServiceError(`${original.name}: ${original.message}`, { cause: original })
      : new UnexpectedError(`${original.name}: ${original.message}`, { cause: original });
  // Where the original was thrown, not where it was named.
  named.stack = original.stack;
  return named;
}

/** The error with its message cut to size and a stack of frames only. */
export function boundedError(error: Error): Error {
  error.message = clipText(error.message, ERROR_MESSAGE_MAX_BYTES);
  const frames = (error.stack ?? '')
    .split('\n')
    .filter((line) => /^\s+at /.test(line))
    .slice(0, MAX_STACK_FRAMES);
  error.stack = frames.join('\n');
  return error;
}

/** The error boundary as a Middy middleware. */
export function errorBoundary(): MiddlewareObj {
  return {
    onError: (request) => {
      if (request.error !== null && request.error !== undefined)
        request.error = boundedError(contractErrorOf(request.error));
    },
  };
}

/**
 * The middlewares of every handler: Powertools' (log context, metrics) and the error boundary.
 * Middy runs `onError` in the reverse order of `use`, so the boundary names the error first.
 */
export const handlerMiddlewares = [...powertoolsMiddlewares, errorBoundary()];
