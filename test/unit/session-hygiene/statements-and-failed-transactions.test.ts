import {
  BatchExecuteStatementCommand,
  DescribeStatementCommand,
  ExecuteStatementCommand,
} from '@aws-sdk/client-redshift-data';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { StaleSessionError } from '../../../functions/common/errors.ts';
import { pollStatus } from '../../../functions/poll-status.ts';
import { submitQuery } from '../../../functions/submit.ts';
import { ddb, redshift } from '../../support/mocked-clients.ts';
import { runningState } from '../../support/query-state.ts';
import * as answers from '../../support/service-answers.ts';
import { unitDeps } from '../../support/unit-deps.ts';
import * as fx from './fixtures.ts';

/**
 * How Submit Query runs `statements` and SQL that leaves state, and a reused session answering that
 * its transaction failed, as Submit Query and Poll Status see it.
 */

beforeEach(fx.idlePool);

describe('Function: submitQuery', () => {
  it('runs statements as one BatchExecuteStatement in a transaction, on the leased session', async () => {
    // Prepare
    const { deps } = unitDeps();
    redshift.on(BatchExecuteStatementCommand).resolves({ Id: 'b-1', Status: 'FINISHED' });

    // Act
    await submitQuery(
      fx.submitted(
        {
          statements: ['insert into t values (:v)', 'select * from t'],
          parameters: [{ name: 'v', value: '1' }],
        },
        fx.reused,
      ),
      deps,
    );

    // Assess
    expect(redshift).toReceiveCommandWith(BatchExecuteStatementCommand, {
      Sqls: ['insert into t values (:v)', 'select * from t'],
      Parameters: [{ name: 'v', value: '1' }],
      ExecutionMode: 'TRANSACTION',
      SessionId: 'sess-1',
    });
    expect(redshift.commandCalls(ExecuteStatementCommand)).toHaveLength(0);
  });

  it('sends ExecutionMode AUTO_COMMIT for transaction: false', async () => {
    const { deps } = unitDeps();
    redshift.on(BatchExecuteStatementCommand).resolves({ Id: 'b-1', Status: 'FINISHED' });

    await submitQuery(
      fx.submitted({ statements: ['select 1', 'select 2'], transaction: false }, fx.reused),
      deps,
    );

    expect(redshift).toReceiveCommandWith(BatchExecuteStatementCommand, {
      ExecutionMode: 'AUTO_COMMIT',
    });
  });

  it('runs SQL that leaves state without a session when no pooled one was free', async () => {
    // Prepare
    const { deps } = unitDeps();
    redshift.on(ExecuteStatementCommand).resolves({ Id: 'st-1', Status: 'FINISHED' });

    // Act
    const next = await submitQuery(
      fx.submitted({ sql: 'create temp table t as select 1' }, fx.miss),
      deps,
    );

    // Assess
    const input = redshift.commandCalls(ExecuteStatementCommand)[0]?.args[0].input;
    expect(input?.SessionKeepAliveSeconds).toBeUndefined();
    expect(input?.SessionId).toBeUndefined();
    expect(next.session).toEqual({ sessionId: null, reused: false, sessionless: true });
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
  });

  it('throws StaleSessionError when a reused session answers that its transaction failed', async () => {
    const { deps } = unitDeps();
    redshift.on(ExecuteStatementCommand).resolves({ Id: 'st-1', Status: 'FAILED' });
    answers.statementFails(fx.FAILED_TRANSACTION);

    const error = await fx.refusal(submitQuery(fx.submitted({ sql: 'select 1' }, fx.reused), deps));

    expect(error).toBeInstanceOf(StaleSessionError);
    expect(error.message).toContain('failed transaction');
  });

  it('reports the same error on a session it opened as the statement failing', async () => {
    const { deps } = unitDeps();
    redshift
      .on(ExecuteStatementCommand)
      .resolves({ Id: 'st-1', SessionId: 'new', Status: 'FAILED' });
    answers.statementFails(fx.FAILED_TRANSACTION);

    const next = await submitQuery(fx.submitted({ sql: 'select 1' }, fx.miss), deps);

    expect(next.statement).toEqual(
      expect.objectContaining({ status: 'FAILED', error: fx.FAILED_TRANSACTION }),
    );
  });
});

describe('Function: pollStatus', () => {
  it('throws StaleSessionError when a reused session answers that its transaction failed', async () => {
    const { deps } = unitDeps();
    answers.statementFails(fx.FAILED_TRANSACTION);

    const error = await fx.refusal(pollStatus(runningState(), deps, { remainingMs: 60_000 }));

    expect(error).toBeInstanceOf(StaleSessionError);
  });

  it('reports a failed batch with the index of the statement that failed', async () => {
    const { deps } = unitDeps();
    redshift.on(DescribeStatementCommand).resolves({
      Id: 'b-1',
      Status: 'FAILED',
      Error: 'ERROR: division by zero',
      SubStatements: [
        { Id: 'b-1:1', Status: 'FINISHED' },
        { Id: 'b-1:2', Status: 'FAILED' },
        { Id: 'b-1:3', Status: 'ABORTED' },
      ],
    });

    const next = await pollStatus(runningState({ statementId: 'b-1' }), deps, {
      remainingMs: 60_000,
    });

    expect(next.statement).toEqual(
      expect.objectContaining({ failedIndex: 1, subStatuses: ['FINISHED', 'FAILED', 'ABORTED'] }),
    );
  });
});
