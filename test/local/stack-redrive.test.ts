import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DescribeExecutionCommand, RedriveExecutionCommand } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { QUERY_DEFINITION_FILE, SHORT_QUERY_PATH, STATES } from '../../statemachine/definition.ts';
import { statesEntered, useWorkflowStack } from '../support/workflow-stack.ts';

/** Redriving a failed query on the local stack: from the failed state, without running the SQL again. */

const local = useWorkflowStack();
const { control, counters, history, holdStatements, pool, run, start, waitForEnd } = local;

/** How many times a step runs when TransientServiceError outlasts its retries: once, plus each retry. */
function attemptsOf(stateName: string): number {
  const definition = JSON.parse(readFileSync(QUERY_DEFINITION_FILE, 'utf8')) as {
    States: Record<string, { Retry?: { ErrorEquals: string[]; MaxAttempts?: number }[] }>;
  };
  const retry = definition.States[stateName]?.Retry?.find((rule) =>
    rule.ErrorEquals.includes('TransientServiceError'),
  );
  return 1 + (retry?.MaxAttempts ?? 3);
}

describe('Local stack: redriving a failed query', () => {
  it("redrives a query that failed in Fetch Results to its statement's rows, without running the SQL again", async () => {
    // Prepare: Fetch Results fails through every retry
    await control('faults', {
      target: 'Lambda.FetchResults',
      error: 'TransientServiceError',
      count: attemptsOf(STATES.fetch),
    });
    const before = await counters();
    const failed = await run({ tenantId: 'acme', sql: 'select count(*) as sales from sales' });
    expect([failed.status, failed.error]).toEqual(['FAILED', 'TransientServiceError']);
    expect(await pool('acme')).not.toContainEqual(expect.objectContaining({ state: 'LEASED' }));

    // Act
    const { redriveDate } = await local.sfn.send(
      new RedriveExecutionCommand({ executionArn: failed.executionArn }),
    );
    const redriven = await waitForEnd(failed.executionArn);

    // Assess
    expect(redriven.status).toBe('SUCCEEDED');
    expect(redriven.output?.rows).toEqual([[expect.any(Number)]]);
    const described = await local.sfn.send(
      new DescribeExecutionCommand({ executionArn: failed.executionArn }),
    );
    expect(described).toEqual(
      expect.objectContaining({ redriveCount: 1, redriveDate, redriveStatus: 'NOT_REDRIVABLE' }),
    );
    const after = await counters();
    expect(after.redshiftData.statementsSubmitted - before.redshiftData.statementsSubmitted).toBe(
      1,
    );
    const events = await history(failed.executionArn);
    const types = events.map((e) => e.type);
    expect(types.indexOf('ExecutionRedriven')).toBe(types.indexOf('ExecutionFailed') + 1);
    // Nothing before Fetch Results ran again, and Fetch Results went on where it failed.
    expect(statesEntered(events)).toEqual(SHORT_QUERY_PATH);
  });

  it('redrives a query that failed while polling: its statement ran on, and the redrive reads it', async () => {
    // Prepare: the statement is held while Poll Status fails through every retry
    const marker = `hold-${randomUUID()}`;
    const held = await holdStatements(marker);
    const executionArn = await start({
      tenantId: 'globex',
      sql: `select 42 as answer -- ${marker}`,
    });
    await held.whenHeld(1);
    await control('faults', {
      target: 'Lambda.PollStatus',
      error: 'TransientServiceError',
      count: attemptsOf(STATES.poll),
    });
    const failed = await waitForEnd(executionArn);
    expect([failed.status, failed.error]).toEqual(['FAILED', 'TransientServiceError']);
    // The clean-up of failed executions dropped the busy session rather than leave it leased.
    expect(await pool('globex')).not.toContainEqual(expect.objectContaining({ state: 'LEASED' }));
    const before = await counters();

    // Act
    await held.release();
    await local.sfn.send(new RedriveExecutionCommand({ executionArn }));
    const redriven = await waitForEnd(executionArn);

    // Assess
    expect(redriven.status).toBe('SUCCEEDED');
    expect(redriven.output?.rows).toEqual([[42]]);
    const after = await counters();
    expect(after.redshiftData.statementsSubmitted).toBe(before.redshiftData.statementsSubmitted);
  });

  it('redrives a query that failed for its SQL to the same failure: the Fail state runs again', async () => {
    const failed = await run({ tenantId: 'initech', sql: 'select * from still_no_such_table' });
    const before = await counters();

    await local.sfn.send(new RedriveExecutionCommand({ executionArn: failed.executionArn }));
    const again = await waitForEnd(failed.executionArn);

    expect([again.status, again.error]).toEqual(['FAILED', 'QueryFailedError']);
    expect(again.cause).toEqual(failed.cause);
    const after = await counters();
    expect(after.redshiftData.statementsSubmitted).toBe(before.redshiftData.statementsSubmitted);
    const types = (await history(failed.executionArn)).map((e) => e.type);
    expect(types.slice(-2)).toEqual(['ExecutionRedriven', 'ExecutionFailed']);
  });
});
