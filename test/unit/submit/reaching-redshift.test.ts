import { ExecuteStatementCommand } from '@aws-sdk/client-redshift-data';
import { DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { handler, submitQuery } from '../../../functions/submit.ts';
import { lambdaContext, refusedState } from '../../support/lambda-context.ts';
import { ddb, redshift } from '../../support/mocked-clients.ts';
import { unitDeps } from '../../support/unit-deps.ts';
import * as fx from './fixtures.ts';

/**
 * Submit Query's ExecuteStatement: how it authenticates, a reused session's bare call, the
 * ClientToken that makes retries safe, and the SQL kept out of the state and the handler's refusal.
 */

describe('Function: submitQuery, its call to the Data API', () => {
  it('authenticates with the secret instead of DbUser when one is configured, on a workgroup', async () => {
    const secret = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:rs-AbCdEf';
    const { deps } = unitDeps({
      SPECTRA_REDSHIFT_CLUSTER_IDENTIFIER: '',
      SPECTRA_REDSHIFT_WORKGROUP_NAME: 'wg-1',
      SPECTRA_REDSHIFT_SECRET_ARN: secret,
    });
    fx.statementGoes({ SessionId: 's', Status: 'SUBMITTED' });

    await submitQuery(fx.state(), deps);

    const input = redshift.commandCalls(ExecuteStatementCommand)[0]?.args[0].input;
    expect(input).toEqual(expect.objectContaining({ WorkgroupName: 'wg-1', SecretArn: secret }));
    expect(input).not.toHaveProperty('DbUser');
    expect(input).not.toHaveProperty('ClusterIdentifier');
  });

  it('sends no DbUser to a Serverless workgroup without a secret: its user comes from the IAM role', async () => {
    const { deps } = unitDeps({
      SPECTRA_REDSHIFT_CLUSTER_IDENTIFIER: '',
      SPECTRA_REDSHIFT_WORKGROUP_NAME: 'wg-1',
    });
    fx.statementGoes({ SessionId: 's', Status: 'SUBMITTED' });

    await submitQuery(fx.state(), deps);

    const input = redshift.commandCalls(ExecuteStatementCommand)[0]?.args[0].input;
    expect(input).toEqual(expect.objectContaining({ WorkgroupName: 'wg-1', Database: 'dev' }));
    expect(input).not.toHaveProperty('DbUser');
    expect(input).not.toHaveProperty('SecretArn');
  });

  it('reuses a leased session with only Sql and SessionId, never the connection fields', async () => {
    const { deps, count } = unitDeps();
    fx.statementGoes({ SessionId: '11111111-2222-3333-4444-555555555555', Status: 'STARTED' });

    const next = await submitQuery(fx.reusing(), deps);

    const input = redshift.commandCalls(ExecuteStatementCommand)[0]?.args[0].input ?? {};
    expect(Object.keys(input).sort()).toEqual(['ClientToken', 'Parameters', 'SessionId', 'Sql']);
    // The statement is the one write to the execution's record: nothing else is taken here.
    const recordWrites = ddb
      .commandCalls(UpdateCommand)
      .filter((call) => call.args[0].input.Key?.pool_id === fx.recordKey.pool_id);
    expect(recordWrites.map((call) => call.args[0].input.ExpressionAttributeValues)).toEqual([
      expect.objectContaining({ ':statement': 'st-1' }),
    ]);
    expect(ddb).not.toReceiveCommand(PutCommand);
    expect(ddb).not.toReceiveCommand(DeleteCommand);
    expect(count('SessionCreated')).toBe(0);
    expect(next.session.reused).toBe(true);
    expect(next.statement?.status).toBe('STARTED');
  });

  it('derives the ClientToken from the execution, its run and the submit attempt', async () => {
    const { deps } = unitDeps();
    fx.statementGoes({ SessionId: 's', Status: 'FINISHED' });

    await submitQuery(fx.state(), deps);
    await submitQuery(fx.state(), deps);
    await submitQuery(fx.state({ submitAttempt: 1 }), deps);
    await submitQuery(fx.state({ run: 1 }), deps);

    const tokens = redshift
      .commandCalls(ExecuteStatementCommand)
      .map((call) => call.args[0].input.ClientToken);
    expect(tokens[1]).toBe(tokens[0]);
    expect(new Set(tokens).size).toBe(3);
  });

  it('reads the SQL from the execution input and keeps it out of the state it returns', async () => {
    const { deps } = unitDeps();
    fx.statementGoes({ SessionId: 's', Status: 'FINISHED' });

    const next = await submitQuery(fx.state(), deps);

    expect(redshift).toReceiveCommandWith(ExecuteStatementCommand, { Sql: 'select :region' });
    expect(JSON.stringify(next)).not.toContain('select :region');
    expect(JSON.stringify(next)).not.toContain('"eu"');
  });

  it('refuses, through its handler, a state it cannot read, naming the step and the field', async () => {
    await expect(
      handler({ request: { tenantId: 'acme', sql: 'select 1' } }, lambdaContext),
    ).rejects.toMatchObject(refusedState('SubmitQuery', 'state'));
    expect(redshift.calls()).toHaveLength(0);
    expect(ddb.calls()).toHaveLength(0);
  });
});
