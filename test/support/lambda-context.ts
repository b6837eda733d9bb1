import type { Context } from 'aws-lambda';

/** A Lambda context with time to spare, as the runtime hands a handler. */
export const lambdaContext = {
  functionName: 'spectra-test',
  awsRequestId: 'req-1',
  getRemainingTimeInMillis: () => 60_000,
} as unknown as Context;
