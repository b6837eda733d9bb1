import {
  ActiveSessionsExceededException,
  DescribeStatementCommand,
  ExecuteStatementCommand,
} from '@aws-sdk/client-redshift-data';
import { DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { submitQuery } from '../../../functions/submit.ts';
import { ddb, redshift } from '../../support/mocked-clients.ts';
import { unitDeps } from '../../support/unit-deps.ts';
import * as fx from './fixtures.ts';

/**
 * Submit Query running a statement without a session: at the Data API's session limit, on a
 * reservation that lapsed, or when AcquireSession found none open long enough.
 */

describe('Function: submitQuery, running without a session', () => {
  it('runs the query without a session, and gives its slots back, when the Data API is at its session limit', async () => {
    // Prepare
    const { deps, count } = unitDeps();
    redshift.on(ExecuteStatementCommand).callsFake((input) => {
      if (input.SessionKeepAliveSeconds) {
        throw new ActiveSessionsExceededException({ message: 'Too many sessions', $metadata: {} });
      }
      return { Id: 'st-3', Status: 'SUBMITTED' };
    });
    redshift.on(DescribeStatementCommand).resolves({ Id: 'st-3', Status: 'FINISHED' });

    // Act
    const next = await submitQuery(fx.state(), deps);

    // Assess
    const calls = redshift.commandCalls(ExecuteStatementCommand).map((call) => call.args[0].input);
    expect(calls).toHaveLength(2);
    expect(calls[1]).not.toHaveProperty('SessionKeepAliveSeconds');
    expect(calls[1]?.ClientToken).toBe(calls[0]?.ClientToken);
    expect(next.session).toEqual({ sessionId: null, reused: false, sessionless: true });
    expect(next.statement?.statementId).toBe('st-3');
    expect(count('SessionLimitReached')).toBe(1);
    expect(ddb).not.toReceiveCommand(PutCommand);
    for (const Key of fx.slotKeys) expect(ddb).toReceiveCommandWith(DeleteCommand, { Key });
  });

  it('runs the query without a session when its reservation is no longer held', async () => {
    // Prepare: the slots lapsed and another opener took one over
    const { deps } = unitDeps();
    ddb.on(UpdateCommand, { Key: fx.slotKeys[0] }).rejects(fx.conditionFailed());
    fx.statementGoes({ Status: 'SUBMITTED' }, { Status: 'FINISHED' });

    // Act
    const next = await submitQuery(fx.state(), deps);

    // Assess
    const input = redshift.commandCalls(ExecuteStatementCommand)[0]?.args[0].input;
    expect(input).not.toHaveProperty('SessionKeepAliveSeconds');
    expect(next.session).toEqual({ sessionId: null, reused: false, sessionless: true });
    expect(ddb).not.toReceiveCommand(PutCommand);
  });

  it('runs without a session when AcquireSession found only sessions closing before the deadline', async () => {
    const { deps } = unitDeps();
    fx.statementGoes({ Status: 'STARTED' });

    const next = await submitQuery(
      fx.state({ session: { sessionId: null, reused: false, sessionless: true } }),
      deps,
    );

    const input = redshift.commandCalls(ExecuteStatementCommand)[0]?.args[0].input;
    expect(input?.SessionKeepAliveSeconds).toBeUndefined();
    expect(input?.SessionId).toBeUndefined();
    expect(next.session).toEqual({ sessionId: null, reused: false, sessionless: true });
    expect(ddb).not.toReceiveCommand(PutCommand);
  });
});
