import type { Context } from 'aws-lambda';
import { expect } from 'vitest';

/** A Lambda context with time to spare, as the runtime hands a handler. */
export const lambdaContext = {
  functionName: 'spectra-test',
  awsRequestId: 'req-1',
  getRemainingTimeInMillis: () => 60_000,
} as unknown as Context;

/**
 * What a step's handler fails with for an event that is not its state: the contract's name for a
 * defect, and a message that names the step and the first field it could not read.
 */
export const refusedState = (step: string, field: string) => ({
  name: 'UnexpectedError',
  message: expect.stringMatching(
    new RegExp(`${step} received a state it cannot read: ${field}\\b`),
  ),
});
