import { CancelStatementCommand, DescribeStatementCommand } from '@aws-sdk/client-redshift-data';
import { describe, expect, it } from 'vitest';
import { submitQuery } from '../../../functions/submit.ts';
import { redshift } from '../../support/mocked-clients.ts';
import { queryOf } from '../../support/query-state.ts';
import * as answers from '../../support/service-answers.ts';
import { NOW, secondsAfterNow, unitDeps } from '../../support/unit-deps.ts';
import * as fx from './fixtures.ts';

/**
 * Submit Query's long-poll after the submission: the error it reads, the bound of the Lambda's time
 * left, and the query's deadline, at which it cancels the statement.
 */

describe('Function: submitQuery, its long-poll', () => {
  it('reads the error text when the statement failed inside the long-poll', async () => {
    const { deps } = unitDeps();
    fx.statementGoes(
      { SessionId: 's', Status: 'SUBMITTED' },
      { Status: 'FAILED', Error: 'ERROR: syntax error at or near "selec"' },
    );

    const next = await submitQuery(fx.state(), deps);

    expect(next.statement).toEqual(
      expect.objectContaining({
        status: 'FAILED',
        error: 'ERROR: syntax error at or near "selec"',
      }),
    );
  });

  it('bounds the long-poll by the time the Lambda has left', async () => {
    const { deps } = unitDeps();
    fx.statementGoes({ SessionId: 's', Status: 'SUBMITTED' }, { Status: 'STARTED' });

    await submitQuery(fx.state(), deps, { remainingMs: 10_500 });

    expect(redshift).toReceiveCommandWith(DescribeStatementCommand, { WaitTimeSeconds: 2 });
  });

  describe('its timeout', () => {
    /** A query whose deadline is two seconds after the clock's start. */
    const dueInTwoSeconds = () =>
      fx.state({
        query: queryOf({
          dbUser: 'acme',
          timeoutSeconds: 2,
          deadline: secondsAfterNow(2).toISOString(),
        }),
      });

    /**
     * A clock at the start until the long-poll, which takes the two seconds left: the statement
     * answers `polled` then.
     */
    function longPollReachesTheDeadline(polled: Record<string, unknown>) {
      let now = NOW;
      fx.statementSubmitted({ Id: 'st-5', SessionId: 'new-session', Status: 'SUBMITTED' });
      redshift.on(DescribeStatementCommand, { WaitTimeSeconds: 2 }).callsFake(() => {
        now = secondsAfterNow(2);
        return { Id: 'st-5', ...polled };
      });
      return unitDeps({}, () => now);
    }

    it('long-polls no further than the deadline, then cancels the statement still running and says so', async () => {
      // Prepare
      const { deps } = longPollReachesTheDeadline({ Status: 'STARTED' });
      answers.cancelSucceeds();
      answers.statementAfterCancelIs('ABORTED', { Id: 'st-5' });

      // Act
      const next = await submitQuery(dueInTwoSeconds(), deps);

      // Assess
      expect(redshift).toReceiveCommandWith(DescribeStatementCommand, {
        Id: 'st-5',
        WaitTimeSeconds: 2,
      });
      expect(redshift).toReceiveCommandWith(CancelStatementCommand, { Id: 'st-5' });
      expect(redshift).toReceiveCommandWith(DescribeStatementCommand, {
        Id: 'st-5',
        WaitTimeSeconds: 5,
      });
      expect(next.statement).toEqual(
        expect.objectContaining({ status: 'ABORTED', cancelledFor: 'timeout', waitSeconds: 0 }),
      );
    });

    it('keeps the result of a statement that finished as the deadline came', async () => {
      const { deps } = longPollReachesTheDeadline({ Status: 'STARTED' });
      answers.cancelFindsStatementEnded('st-5');
      answers.statementAfterCancelIs('FINISHED', { Id: 'st-5', HasResultSet: true });

      const next = await submitQuery(dueInTwoSeconds(), deps);

      expect(next.statement).toEqual(
        expect.objectContaining({ status: 'FINISHED', hasResultSet: true }),
      );
      expect(next.statement?.cancelledFor).toBeUndefined();
    });

    it('throws QueryTimeoutError and sends nothing when the deadline has passed already', async () => {
      const { deps } = unitDeps({}, () => secondsAfterNow(3));

      await expect(submitQuery(dueInTwoSeconds(), deps)).rejects.toThrow(
        expect.objectContaining({
          name: 'QueryTimeoutError',
          message: expect.stringContaining('timeoutSeconds 2'),
        }),
      );
      expect(redshift.calls()).toHaveLength(0);
    });
  });
});
