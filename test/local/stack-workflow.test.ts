import { randomUUID } from 'node:crypto';
import { StopExecutionCommand } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { SHORT_QUERY_PATH, STATES } from '../../statemachine/definition.ts';
import { pause, statesEntered, useWorkflowStack } from '../support/workflow-stack.ts';

/**
 * The workflow's scenarios on the whole local stack over HTTP, with the real SDK clients: through
 * StartExecution and DescribeExecution, with GetExecutionHistory checked for the states passed.
 */

const local = useWorkflowStack();
const { control, counters, history, holdStatements, pool, run, start, untilCounters, waitForEnd } =
  local;

describe('Local stack: the workflow over HTTP', () => {
  it('runs a query, then reuses its session for the next one of the tenant', async () => {
    // Prepare
    const before = await counters();

    // Act
    const first = await run({ tenantId: 'acme', sql: 'select count(*) as sales from sales' });
    const second = await run({ tenantId: 'acme', sql: 'select count(*) as sales from sales' });

    // Assess
    expect(first.status).toBe('SUCCEEDED');
    expect(first.output).toEqual(
      expect.objectContaining({
        tenantId: 'acme',
        sessionReused: false,
        columns: [{ name: 'sales', type: 'int8' }],
        rowCount: 1,
      }),
    );
    expect(second.output).toEqual(
      expect.objectContaining({ sessionReused: true, sessionId: first.output?.sessionId }),
    );
    expect(second.output?.rows).toEqual(first.output?.rows);
    const after = await counters();
    expect(after.redshiftData.sessionsOpened - before.redshiftData.sessionsOpened).toBe(1);
    const events = await history(second.executionArn);
    expect(statesEntered(events)).toEqual(SHORT_QUERY_PATH);
    expect(events.map((e) => e.type)).toEqual(
      expect.arrayContaining([
        'ExecutionStarted',
        'TaskScheduled',
        'TaskSucceeded',
        'ExecutionSucceeded',
      ]),
    );
    expect(events.every((e, i) => e.id === i + 1 && e.previousEventId === i)).toBe(true);
  });

  it('recovers through InvalidateSession when the session was expired behind its back', async () => {
    // Prepare
    const first = await run({ tenantId: 'globex', sql: 'select 1 as one' });
    await control('sessions/expire', { sessionId: first.output?.sessionId });

    // Act
    const second = await run({ tenantId: 'globex', sql: 'select 1 as one' });

    // Assess
    expect(second.status).toBe('SUCCEEDED');
    expect(second.output?.sessionId).not.toBe(first.output?.sessionId);
    expect(statesEntered(await history(second.executionArn))).toContain(STATES.invalidate);
    expect((await pool('globex')).map((r) => r.session_id)).toEqual([second.output?.sessionId]);
  });

  it("fails a bad query with QueryFailedError and the engine's message, and releases the lease", async () => {
    const result = await run({ tenantId: 'initech', sql: 'select * from no_such_table' });

    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('QueryFailedError');
    expect(result.cause).toEqual(
      expect.objectContaining({ statementId: expect.any(String), tenantId: 'initech' }),
    );
    expect(String(result.cause?.redshiftError)).toContain('no_such_table');
    expect(await pool('initech')).toEqual([expect.objectContaining({ state: 'IDLE' })]);
  });

  it('two concurrent queries of one tenant: short queries run on its one session, one after the other, never a busy one', async () => {
    // Prepare: the tenant has one idle session. The first query's statement is held until the
    // second is in Acquire Session, reserving the slots of a session of its own (its read of the
    // cluster's slots is held too; the first reads the table no more once it holds its lease), so
    // the first gives the session back before the second opens one, however slow the machine
    const tenantId = 'umbrella';
    const marker = `hold-${randomUUID()}`;
    const sql = `select 1 as done -- ${marker}`;
    const poolRead = 'DynamoDB_20120810.Query';
    await run({ tenantId, sql: 'select 1' });
    const before = await counters();
    const held = await holdStatements(marker);

    // Act
    const first = await start({ tenantId, sql });
    await held.whenHeld(1);
    await control('holds', { target: poolRead, after: 1 });
    const second = await start({ tenantId, sql });
    await untilCounters((now) => now.held[poolRead] === 1);
    await held.release();
    const a = await waitForEnd(first);
    await control('holds/release', { target: poolRead });
    const b = await waitForEnd(second);

    // Assess
    expect([a.status, b.status]).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(a.output?.sessionId).toBe(b.output?.sessionId);
    const after = await counters();
    expect(after.redshiftData.sessionsOpened - before.redshiftData.sessionsOpened).toBe(0);
    expect(after.redshiftData.busyRejections).toBe(before.redshiftData.busyRejections);
  });

  it('two concurrent queries of one tenant: queries that hold the session get a session each, never a busy one', async () => {
    // Prepare: the tenant has one idle session, and each query's statement is held until both
    // run, so the first holds its session while the second opens one
    const tenantId = 'initech';
    const marker = `hold-${randomUUID()}`;
    const sql = `select 1 as done -- ${marker}`;
    await run({ tenantId, sql: 'select 1' });
    const before = await counters();
    const held = await holdStatements(marker);

    // Act
    const both = Promise.all([run({ tenantId, sql }), run({ tenantId, sql })]);
    await held.whenHeld(2);
    await held.release();
    const [a, b] = await both;

    // Assess
    expect([a.status, b.status]).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(a.output?.sessionId).not.toBe(b.output?.sessionId);
    const after = await counters();
    expect(after.redshiftData.sessionsOpened - before.redshiftData.sessionsOpened).toBe(1);
    expect(after.redshiftData.busyRejections).toBe(before.redshiftData.busyRejections);
  });

  it('keeps tenants apart: own sessions, and row-level security on the demo data', async () => {
    const sql = 'select count(distinct tenant_id) as tenants, min(tenant_id) as tenant from sales';

    const acme = await run({ tenantId: 'acme', sql });
    const globex = await run({ tenantId: 'globex', sql });

    expect(acme.output?.rows).toEqual([[1, 'acme']]);
    expect(globex.output?.rows).toEqual([[1, 'globex']]);
    expect(acme.output?.sessionId).not.toBe(globex.output?.sessionId);
  });

  it('fails invalid input with InvalidInputError without a DynamoDB or Data API call', async () => {
    // Prepare
    const before = await counters();

    // Act
    const result = await run({ tenantId: 'acme/../globex', sql: '' });

    // Assess
    expect(result.error).toBe('InvalidInputError');
    expect(String(result.cause?.message)).toContain('tenantId must be 1-63 characters');
    const after = await counters();
    const touched = (prefix: string) =>
      Object.entries(after.calls)
        .filter(([target]) => target.startsWith(prefix))
        .reduce((sum, [target, n]) => sum + n - (before.calls[target] ?? 0), 0);
    expect(touched('DynamoDB_20120810.')).toBe(0);
    expect(touched('RedshiftData.')).toBe(0);
  });

  it('runs an INSERT once when Submit is retried after its response was lost', async () => {
    // Prepare
    expect(
      (await run({ tenantId: 'acme', sql: 'create table if not exists audit_once (id int)' }))
        .status,
    ).toBe('SUCCEEDED');
    await control('faults', {
      target: 'Lambda.SubmitQuery',
      error: 'Lambda.ServiceException',
      afterInvoke: true,
    });
    const before = await counters();

    // Act
    const insert = await run({ tenantId: 'acme', sql: 'insert into audit_once values (42)' });

    // Assess
    expect(insert.status).toBe('SUCCEEDED');
    const after = await counters();
    const executeCalls = (c: typeof before) => c.calls['RedshiftData.ExecuteStatement'] ?? 0;
    expect(executeCalls(after) - executeCalls(before)).toBe(2);
    expect(after.redshiftData.statementsSubmitted - before.redshiftData.statementsSubmitted).toBe(
      1,
    );
    const count = await run({
      tenantId: 'acme',
      sql: 'select count(*) from audit_once where id = 42',
    });
    expect(count.output?.rows).toEqual([[1]]);
  });

  it('loops through PollStatus until a slow query ends, then returns its rows', async () => {
    // The statement is held until the execution has polled twice.
    const marker = `hold-${randomUUID()}`;
    const held = await holdStatements(marker);
    const executionArn = await start({
      tenantId: 'initech',
      sql: `select n from generate_series(1, 3) as n -- ${marker}`,
    });
    while (statesEntered(await history(executionArn)).filter((s) => s === STATES.poll).length < 2)
      await pause();
    await held.release();
    const result = await waitForEnd(executionArn);

    expect(result.status).toBe('SUCCEEDED');
    expect(result.output?.rows).toEqual([[1], [2], [3]]);
    const polls = statesEntered(await history(result.executionArn)).filter(
      (s) => s === STATES.poll,
    );
    expect(polls.length).toBeGreaterThanOrEqual(2);
  });

  it('stops an execution: ABORTED, its statement cancelled and its lease released', async () => {
    // Prepare: a query whose statement runs (held) until it is stopped
    const marker = `hold-${randomUUID()}`;
    const held = await holdStatements(marker);
    const executionArn = await start({ tenantId: 'umbrella', sql: `select 1 -- ${marker}` });
    await held.whenHeld(1);

    // Act
    await local.sfn.send(
      new StopExecutionCommand({
        executionArn,
        error: 'UserCancelled',
        cause: 'not needed any more',
      }),
    );
    await held.release();

    // Assess
    const stopped = await waitForEnd(executionArn);
    expect(stopped.status).toBe('ABORTED');
    const events = await history(executionArn);
    expect(events.at(-1)).toEqual(
      expect.objectContaining({
        type: 'ExecutionAborted',
        executionAbortedEventDetails: { error: 'UserCancelled', cause: 'not needed any more' },
      }),
    );
    expect((await pool('umbrella')).every((r) => r.state === 'IDLE')).toBe(true);
  });
});
