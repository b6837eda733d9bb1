import {
  ExecuteStatementCommand,
  ExecuteStatementException,
  QueryTimeoutException,
  ValidationException,
} from '@aws-sdk/client-redshift-data';
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { submitQuery } from '../../../functions/submit.ts';
import { ddb, redshift } from '../../support/mocked-clients.ts';
import { unitDeps } from '../../support/unit-deps.ts';
import * as fx from './fixtures.ts';

/**
 * Submit Query naming the Data API's refusals with the contract's error names, without the
 * service's text, and keeping its slots when a retry may find the session a failed call opened.
 */

describe('Function: submitQuery, the refusals it names', () => {
  it.each([
    ['Session is not available', 'not available (closed, expired or busy)'],
    ['Session with Id: 11111111-2222-3333-4444-555555555555 is invalid', 'an invalid session id'],
  ])('throws StaleSessionError when the Data API answers "%s"', async (message, reason) => {
    const { deps } = unitDeps();
    redshift
      .on(ExecuteStatementCommand)
      .rejects(new ValidationException({ message, $metadata: {} }));

    await expect(submitQuery(fx.reusing(), deps)).rejects.toThrow(
      expect.objectContaining({
        name: 'StaleSessionError',
        message: expect.stringContaining(`: ${reason}`),
      }),
    );
  });

  it("fails a refusal its checks did not foresee as QueryFailedError, without the service's text", async () => {
    // Prepare: a refusal whose text quotes a parameter value
    const { deps } = unitDeps();
    redshift.on(ExecuteStatementCommand).rejects(
      new ValidationException({
        message: "Value 'SSN-078-05-1120' at 'parameters.1.member.value' failed",
        $metadata: { httpStatusCode: 400 },
      }),
    );

    // Act
    const error = await submitQuery(fx.state(), deps).catch((thrown: Error) => thrown);

    // Assess
    expect(error).toMatchObject({
      name: 'QueryFailedError',
      message:
        "Redshift Data ExecuteStatement refused the statement as invalid: ValidationException (HTTP 400); the service's message is not repeated, as it can quote the SQL or its parameters",
    });
    expect(String((error as Error).stack)).not.toContain('SSN-078-05-1120');
  });

  it.each([
    ['ActiveStatementsExceededException', 'TransientServiceError'],
    ['QueryTimeoutException', 'QueryTimeoutError'],
  ])('names the Data API refusing with %s %s, the contract name', async (refusal, name) => {
    const { deps } = unitDeps();
    const error =
      refusal === 'QueryTimeoutException'
        ? new QueryTimeoutException({ message: 'timed out', $metadata: { httpStatusCode: 400 } })
        : Object.assign(new Error('too many'), {
            name: refusal,
            $fault: 'client',
            $metadata: { httpStatusCode: 400 },
          });
    redshift.on(ExecuteStatementCommand).rejects(error);

    await expect(submitQuery(fx.state(), deps)).rejects.toThrow(expect.objectContaining({ name }));
  });

  it("words a transient failure by the error's name and status, without the service's text", async () => {
    const { deps } = unitDeps();
    redshift.on(ExecuteStatementCommand).rejects(
      new ExecuteStatementException({
        message: 'ERROR: invalid input syntax for type integer: "SSN-078-05-1120"',
        Message: 'ERROR: invalid input syntax for type integer: "SSN-078-05-1120"',
        StatementId: 'x',
        $metadata: { httpStatusCode: 500 },
      }),
    );

    await expect(submitQuery(fx.state(), deps)).rejects.toThrow(
      expect.objectContaining({
        name: 'TransientServiceError',
        message:
          'Redshift Data ExecuteStatement failed after retries: ExecuteStatementException (HTTP 500)',
      }),
    );
  });

  it('keeps its slots when ExecuteStatement fails transiently: the retry may get the session that call opened', async () => {
    const { deps } = unitDeps();
    redshift
      .on(ExecuteStatementCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));

    await expect(submitQuery(fx.state(), deps)).rejects.toThrow(
      expect.objectContaining({ name: 'TransientServiceError' }),
    );
    expect(ddb).not.toReceiveCommand(DeleteCommand);
  });
});
