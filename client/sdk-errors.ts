import {
  connectionErrorCode,
  InvalidInputError,
  QueryNotFoundError,
  SpectraClientError,
  SpectraConnectionError,
  StateMachineNotFoundError,
} from './errors.ts';

/**
 * How an AWS SDK error becomes the client's own (errors.ts): a missing execution, state machine
 * or table, bad input, no credentials and an unreachable endpoint each get an error that says what
 * to do; anything else passes through as the SDK threw it.
 */

/** What the client was talking to, for the messages. */
export interface SdkErrorContext {
  stateMachineArn: string;
  sessionsTableName: string;
  endpoint: string | undefined;
}

export function clientErrorOf(
  error: unknown,
  context: SdkErrorContext,
  executionArn?: string,
): unknown {
  if (!(error instanceof Error)) return error;
  switch (error.name) {
    case 'ExecutionDoesNotExist':
    case 'InvalidArn':
      return executionArn === undefined
        ? new SpectraClientError(error.message, { cause: error })
        : new QueryNotFoundError(executionArn, { cause: error });
    case 'StateMachineDoesNotExist':
      return new StateMachineNotFoundError(context.stateMachineArn, { cause: error });
    case 'InvalidName':
    case 'InvalidExecutionInput':
      return new InvalidInputError(`Invalid input: ${error.message}`, { cause: error });
    case 'CredentialsProviderError':
      return new SpectraClientError(
        `No AWS credentials found (${error.message}): sign in as for the AWS CLI (AWS_PROFILE, aws sso login, AWS_ACCESS_KEY_ID...), or point --endpoint / AWS_ENDPOINT_URL at the local stack`,
        { cause: error },
      );
    case 'ResourceNotFoundException':
      return new SpectraClientError(
        `The sessions table ${context.sessionsTableName} does not exist; set SPECTRA_DYNAMODB_SESSIONS_TABLE_NAME to the table in your stack outputs`,
        { cause: error },
      );
  }
  const code = connectionErrorCode(error);
  if (code !== undefined)
    return new SpectraConnectionError(context.endpoint, code, { cause: error });
  return error;
}
