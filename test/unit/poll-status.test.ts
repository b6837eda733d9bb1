import { CancelStatementCommand, DescribeStatementCommand } from '@aws-sdk/client-redshift-data';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { HISTORY_EVENTS_PER_POLL, HISTORY_GUARD_EVENTS } from '../../functions/common/polling.ts';
import { handler, pollStatus } from '../../functions/poll-status.ts';
import { lambdaContext, refusedState } from '../support/lambda-context.ts';
import { ddb, redshift } from '../support/mocked-clients.ts';
import { acquiredState, queryOf, runningState } from '../support/query-state.ts';
import * as answers from '../support/service-answers.ts';
import { EXECUTION_ARN, NOW, secondsAfterNow, unitDeps } from '../support/unit-deps.ts';

/**
 * A clock for a poll that the server holds for `seconds`: it reads `NOW` before the long-poll and
 * `seconds` later after it.
 */
function pollHeldFor(seconds: number): () => Date {
  let polled = false;
  return () => {
    if (polled) return secondsAfterNow(seconds);
    polled = true;
    return NOW;
  };
}

describe('Function: pollStatus', () => {
  it('long-polls DescribeStatement and renews the lease', async () => {
    // Prepare
    const { deps } = unitDeps();
    answers.statementIs('STARTED');

    // Act
    const next = await pollStatus(runningState(), deps, { remainingMs: 60_000 });

    // Assess
    expect(redshift).toReceiveCommandWith(DescribeStatementCommand, {
      Id: 'st-1',
      WaitTimeSeconds: 20,
    });
    expect(ddb).toReceiveCommandWith(UpdateCommand, {
      Key: { pool_id: 'acme#tenant_acme', session_id: 'sess-1' },
      ExpressionAttributeValues: expect.objectContaining({ ':owner': EXECUTION_ARN }),
    });
    expect(next.statement).toEqual(expect.objectContaining({ status: 'STARTED', polls: 1 }));
  });

  it('asks the Wait state to back off when the service answered at once', async () => {
    const { deps } = unitDeps();
    answers.statementIs('STARTED');

    const next = await pollStatus(runningState({ polls: 2 }), deps, { remainingMs: 60_000 });

    expect(next.statement?.waitSeconds).toBe(8);
  });

  it('reports FINISHED with the end time, rows and result-set flag', async () => {
    const { deps } = unitDeps();
    const updatedAt = new Date('2026-11-28T12:00:03.000Z');
    answers.statementIs('FINISHED', { UpdatedAt: updatedAt, HasResultSet: true, ResultRows: 42 });

    const next = await pollStatus(runningState(), deps);

    expect(next.statement).toEqual(
      expect.objectContaining({
        status: 'FINISHED',
        waitSeconds: 0,
        finishedAt: updatedAt.toISOString(),
        hasResultSet: true,
        resultRows: 42,
      }),
    );
  });

  it("reports FAILED with the engine's error text instead of throwing", async () => {
    const { deps } = unitDeps();
    answers.statementFails('ERROR: division by zero');

    const next = await pollStatus(runningState(), deps);

    expect(next.statement).toEqual(
      expect.objectContaining({ status: 'FAILED', error: 'ERROR: division by zero' }),
    );
  });

  it('goes on when the lease is no longer held', async () => {
    const { deps } = unitDeps();
    answers.statementIs('STARTED');
    answers.leaseNoLongerHeld();

    await expect(pollStatus(runningState(), deps)).resolves.toEqual(
      expect.objectContaining({ statement: expect.objectContaining({ polls: 1 }) }),
    );
    expect(deps.telemetry.logger.warn).toHaveBeenCalled();
  });

  describe('its schedule', () => {
    /** A poll at `NOW` that the server held for the 20 seconds asked, of a statement submitted `ageSeconds` before. */
    async function pollAged(ageSeconds: number, deadlineInSeconds = 86_400) {
      const { deps } = unitDeps({}, pollHeldFor(20));
      answers.statementIs('STARTED');
      const state = runningState(
        { submittedAt: secondsAfterNow(-ageSeconds).toISOString() },
        { query: queryOf({ deadline: secondsAfterNow(deadlineInSeconds).toISOString() }) },
      );
      return pollStatus(state, deps, { remainingMs: 60_000 });
    }

    it.each([
      ['a minute', 60, 0],
      ['an hour', 3600, 72],
      ['six hours', 6 * 3600, 432],
      ['twenty hours', 20 * 3600, 900],
    ])(
      'after %s asks for the Wait the schedule gives (none at first, then 2 %% of the time since submission, up to 15 minutes)',
      async (_, ageSeconds, wait) => {
        const next = await pollAged(ageSeconds);

        expect(next.statement?.waitSeconds).toBe(wait);
      },
    );

    it('never waits past the deadline', async () => {
      const next = await pollAged(3600, 30);

      expect(next.statement?.waitSeconds).toBe(10);
    });

    it('renews the lease until 5 minutes after the next poll is due', async () => {
      await pollAged(3600);

      // 72 s of Wait, then a 20-second poll, then the lease's own 300 s, from the poll's end.
      const leaseExpires = new Date(secondsAfterNow(20).getTime() + (72 + 20 + 300) * 1000);
      expect(ddb).toReceiveCommandWith(UpdateCommand, {
        ExpressionAttributeValues: expect.objectContaining({
          ':leaseExpires': leaseExpires.toISOString(),
        }),
      });
    });

    it('adds the most one poll can write to the history bound', async () => {
      const next = await pollAged(60);

      expect(next.historyEventsBound).toBe(
        runningState().historyEventsBound + HISTORY_EVENTS_PER_POLL,
      );
    });
  });

  describe('its limits', () => {
    it('cancels the statement still running at the deadline and says so', async () => {
      // Prepare: the deadline comes at the end of this poll's long-poll
      const { deps } = unitDeps({}, pollHeldFor(20));
      answers.statementIs('STARTED');
      answers.cancelSucceeds();
      answers.statementAfterCancelIs('ABORTED');
      const state = runningState(
        {},
        { query: queryOf({ deadline: secondsAfterNow(20).toISOString() }) },
      );

      // Act
      const next = await pollStatus(state, deps, { remainingMs: 60_000 });

      // Assess
      expect(redshift).toReceiveCommandWith(CancelStatementCommand, { Id: 'st-1' });
      expect(next.statement).toEqual(
        expect.objectContaining({ status: 'ABORTED', cancelledFor: 'timeout', waitSeconds: 0 }),
      );
    });

    it('says so also when the cancel has not taken yet', async () => {
      const { deps } = unitDeps({}, () => secondsAfterNow(30));
      answers.statementIs('STARTED');
      answers.cancelSucceeds();
      const state = runningState(
        {},
        { query: queryOf({ deadline: secondsAfterNow(20).toISOString() }) },
      );

      const next = await pollStatus(state, deps, { remainingMs: 60_000 });

      // The deadline had passed: no long-poll, at once the cancel.
      expect(redshift).toReceiveCommandWith(DescribeStatementCommand, { Id: 'st-1' });
      expect(
        redshift.commandCalls(DescribeStatementCommand)[0]?.args[0].input.WaitTimeSeconds,
      ).toBeUndefined();
      expect(next.statement).toEqual(
        expect.objectContaining({ status: 'STARTED', cancelledFor: 'timeout' }),
      );
    });

    it('cancels the statement when another poll could take the history past its guard', async () => {
      const nearTheGuard = runningState({}, { historyEventsBound: HISTORY_GUARD_EVENTS - 100 });
      const { deps } = unitDeps();
      answers.statementIs('STARTED');
      answers.cancelSucceeds();

      const next = await pollStatus(nearTheGuard, deps, { remainingMs: 60_000 });

      expect(redshift).toReceiveCommandWith(CancelStatementCommand, { Id: 'st-1' });
      expect(next.statement?.cancelledFor).toBe('history');
    });

    it('lets a statement that ended in its last poll end as it did', async () => {
      const { deps } = unitDeps({}, () => secondsAfterNow(30));
      answers.statementIs('FINISHED');
      const state = runningState(
        {},
        { query: queryOf({ deadline: secondsAfterNow(20).toISOString() }) },
      );

      const next = await pollStatus(state, deps, { remainingMs: 60_000 });

      expect(redshift).not.toReceiveCommand(CancelStatementCommand);
      expect(next.statement?.status).toBe('FINISHED');
      expect(next.statement?.cancelledFor).toBeUndefined();
    });
  });

  it('renews nothing for a query that runs without a session', async () => {
    const { deps } = unitDeps();
    answers.statementIs('STARTED');

    await pollStatus(
      runningState({}, { session: { sessionId: null, reused: false, sessionless: true } }),
      deps,
    );

    expect(ddb.calls()).toHaveLength(0);
  });

  it('refuses, through its handler, a state it cannot read, naming the step and the field', async () => {
    await expect(handler(acquiredState(), lambdaContext)).rejects.toMatchObject(
      refusedState('PollStatus', 'statement'),
    );
    expect(redshift.calls()).toHaveLength(0);
    expect(ddb.calls()).toHaveLength(0);
  });
});
