import { describe, expect, it } from 'vitest';
import {
  ExecutionNameTakenError,
  InvalidInputError,
  QueryExecutionError,
  QueryNotFinishedError,
  QueryNotFoundError,
  QueryNotRedrivableError,
  SpectraClientError,
  SpectraConnectionError,
  StateMachineNotFoundError,
} from '../../client/index.ts';
import { EXECUTION_ARN, STATE_MACHINE_ARN } from './spectra-client/fixtures.ts';

/** The client's errors (client/errors.ts): each has a literal name and is a SpectraClientError. */

describe('Errors', () => {
  it.each([
    [new InvalidInputError('x'), 'InvalidInputError'],
    [new QueryNotFoundError(EXECUTION_ARN), 'QueryNotFoundError'],
    [new ExecutionNameTakenError('run-1', EXECUTION_ARN), 'ExecutionNameTakenError'],
    [new StateMachineNotFoundError(STATE_MACHINE_ARN), 'StateMachineNotFoundError'],
    [new QueryNotFinishedError(EXECUTION_ARN), 'QueryNotFinishedError'],
    [
      new QueryExecutionError(EXECUTION_ARN, 'FAILED', 'QueryFailedError', {}),
      'QueryExecutionError',
    ],
    [new SpectraConnectionError(undefined, 'ENOTFOUND'), 'SpectraConnectionError'],
    [new QueryNotRedrivableError(EXECUTION_ARN, 'Execution is RUNNING'), 'QueryNotRedrivableError'],
  ])('%s has the literal name %s and extends SpectraClientError', (error, name) => {
    expect(error.name).toBe(name);
    expect(error).toBeInstanceOf(SpectraClientError);
  });
});
