import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import {
  ExecutionNameTakenError,
  InvalidInputError,
  SpectraClient,
  SpectraConnectionError,
  StateMachineNotFoundError,
} from '../../../client/index.ts';
import { sfn } from '../../support/mocked-clients.ts';
import * as fx from './fixtures.ts';

/**
 * SpectraClient.submitQuery against mocked Step Functions: the input checked before it is sent,
 * names, and a name that is already taken.
 */

describe('Class: SpectraClient', () => {
  describe('Method: submitQuery', () => {
    it('starts an execution with the validated input and the name', async () => {
      // Prepare
      sfn
        .on(StartExecutionCommand)
        .resolves({ executionArn: fx.EXECUTION_ARN, startDate: fx.STARTED });

      // Act
      const submitted = await fx.newClient().submitQuery({
        ...fx.INPUT,
        sql: 'select count(*) as sales from sales where region = :region',
        parameters: [{ name: 'region', value: 'eu' }],
        name: 'run-1',
      });

      // Assess
      expect(submitted).toEqual({ executionArn: fx.EXECUTION_ARN });
      expect(sfn).toReceiveCommandWith(StartExecutionCommand, {
        stateMachineArn: fx.STATE_MACHINE_ARN,
        name: 'run-1',
        input: JSON.stringify({
          ...fx.INPUT,
          sql: 'select count(*) as sales from sales where region = :region',
          parameters: [{ name: 'region', value: 'eu' }],
        }),
      });
    });

    it.each([
      [{ tenantId: 'Acme', sql: 'select 1' }, 'tenantId must be 1-63 characters'],
      [{ tenantId: 'acme', sql: '   ' }, 'sql must not be empty or only whitespace'],
      [
        { tenantId: 'acme', sql: 'select :a', parameters: [{ name: 'a', value: '' }] },
        'parameters[0].value must not be empty',
      ],
      [{ tenantId: 'acme', sql: 'select 1', name: 'has space' }, 'name must be 1-80 characters'],
      [
        { tenantId: 'acme', sql: 'select 1', timeoutSeconds: 90_000 },
        'timeoutSeconds must be a whole number of seconds from 1 to 86400',
      ],
    ])('throws InvalidInputError before any call for %j', async (request, message) => {
      // Act
      const submitting = fx.newClient().submitQuery(request);

      // Assess
      await expect(submitting).rejects.toThrow(InvalidInputError);
      await expect(submitting).rejects.toThrow(message);
      expect(sfn.calls()).toHaveLength(0);
    });

    it('throws InvalidInputError before any call for an input too large to travel beside the state', async () => {
      const request = {
        tenantId: 'acme',
        sql: `select '${'x'.repeat(100_000)}', :a, :b`,
        parameters: ['a', 'b'].map((name) => ({ name, value: 'v'.repeat(60_000) })),
      };

      const submitting = fx.newClient().submitQuery(request);

      await expect(submitting).rejects.toThrow(
        'the input must be a JSON object of at most 204800 bytes',
      );
      expect(sfn.calls()).toHaveLength(0);
    });

    it('returns the existing execution when its name was taken by the same input', async () => {
      // Prepare: the same input, its keys in another order
      fx.nameTakenBy({
        status: 'SUCCEEDED',
        input: JSON.stringify({ sql: fx.INPUT.sql, tenantId: fx.INPUT.tenantId }),
      });

      // Act
      const submitted = await fx.newClient().submitQuery({ ...fx.INPUT, name: 'run-1' });

      // Assess
      expect(submitted).toEqual({ executionArn: fx.EXECUTION_ARN });
    });

    it('throws ExecutionNameTakenError when the name was taken by other input', async () => {
      // Prepare
      fx.nameTakenBy({
        status: 'RUNNING',
        input: JSON.stringify({ ...fx.INPUT, sql: 'select 2' }),
      });

      // Act
      const submitting = fx.newClient().submitQuery({ ...fx.INPUT, name: 'run-1' });

      // Assess
      await expect(submitting).rejects.toThrow(ExecutionNameTakenError);
      await expect(submitting).rejects.toThrow(
        `The execution name "run-1" is taken by another query (${fx.EXECUTION_ARN})`,
      );
    });

    it('throws StateMachineNotFoundError naming the variable to set', async () => {
      // Prepare
      fx.stateMachineMissing();

      // Act
      const submitting = fx.newClient().submitQuery(fx.INPUT);

      // Assess
      await expect(submitting).rejects.toThrow(StateMachineNotFoundError);
      await expect(submitting).rejects.toThrow('set SPECTRA_STATE_MACHINE_ARN');
    });

    it('throws SpectraConnectionError suggesting npm start when the local endpoint is down', async () => {
      // Prepare
      const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:4599'), {
        code: 'ECONNREFUSED',
      });
      sfn.on(StartExecutionCommand).rejects(refused);
      const client = new SpectraClient({ endpoint: 'http://127.0.0.1:4599', region: 'us-east-1' });

      // Act
      const submitting = client.submitQuery(fx.INPUT);

      // Assess
      await expect(submitting).rejects.toThrow(SpectraConnectionError);
      await expect(submitting).rejects.toThrow(
        'Could not reach http://127.0.0.1:4599 (ECONNREFUSED). Is the local stack running? Start it with `npm start`.',
      );
    });
  });
});
