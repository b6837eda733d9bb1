import { randomUUID } from 'node:crypto';
import {
  DescribeStatementCommand,
  type DescribeStatementResponse,
  ExecuteStatementCommand,
} from '@aws-sdk/client-redshift-data';
import { GetExecutionHistoryCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, expect } from 'vitest';
import type { EndedExecution, StackApi } from '../../../bench/chaos/stack-api.ts';
import type { LocalStack } from '../../../local/stack.ts';
import { startStackWithApi } from '../../support/local-stack.ts';

/**
 * What the session hygiene tests share: a local stack on the engine under test, tenants named for
 * the run, and the ways a test runs a query, looks at a session behind Spectra's back and checks
 * that a dirty session was replaced.
 */

export type HygieneSuite = ReturnType<typeof hygieneSuite>;

/** Starts the stack before the calling describe's tests and stops it after them. */
export function hygieneSuite(databaseUrl: () => string | undefined) {
  let stack: LocalStack | undefined;
  let api: StackApi;
  const run = `h${randomUUID().slice(0, 6)}`;
  const tenant = (name: string) => `${run}-${name}`;

  beforeAll(async () => {
    process.env.SPECTRA_SUBMIT_WAIT_SECONDS = '1';
    process.env.SPECTRA_POLL_WAIT_SECONDS = '1';
    ({ stack, api } = await startStackWithApi({ databaseUrl: databaseUrl() }));
  }, 120_000);

  afterAll(async () => {
    api?.destroy();
    await stack?.stop();
  });

  async function query(input: Record<string, unknown>): Promise<EndedExecution> {
    const arn = await api.start(randomUUID(), input);
    return api.waitForEnd(arn, Date.now() + 60_000, 25);
  }

  async function succeeded(input: Record<string, unknown>): Promise<Record<string, unknown>> {
    const ended = await query(input);
    expect(ended.status, JSON.stringify(ended.cause ?? ended.error)).toBe('SUCCEEDED');
    return ended.output as Record<string, unknown>;
  }

  const rowsOf = (output: Record<string, unknown>) => output.rows as unknown[][];

  /** A tenant with its database user and a table of its own. */
  async function tenantWithTable(name: string): Promise<{ tenantId: string; table: string }> {
    const tenantId = tenant(name);
    await api.control('db-users', { tenantId });
    const table = `${tenantId.replaceAll('-', '_')}_t`;
    await succeeded({ tenantId, sql: `create table ${table} (x int)` });
    return { tenantId, table };
  }

  /** What `select count(*)` on the table answers the tenant. */
  async function rowsCounted(tenantId: string, table: string): Promise<unknown[][]> {
    return rowsOf(await succeeded({ tenantId, sql: `select count(*) from ${table}` }));
  }

  /** A batch of three statements into `table` whose second fails. */
  const insertsAroundAFailure = (table: string) => [
    `insert into ${table} values (1)`,
    'select 1/0',
    `insert into ${table} values (2)`,
  ];

  /** The states an execution has entered so far, in order. */
  async function statesEntered(executionArn: string): Promise<string[]> {
    const { events } = await api.sfn.send(new GetExecutionHistoryCommand({ executionArn }));
    return (events ?? [])
      .filter((event) => event.type?.endsWith('StateEntered'))
      .map((event) => event.stateEnteredEventDetails?.name ?? '');
  }

  /** Waits until the execution has entered `state`. */
  async function untilEntered(executionArn: string, state: string): Promise<void> {
    while (!(await statesEntered(executionArn)).includes(state))
      await new Promise((resolve) => setTimeout(resolve, 25));
  }

  /** Runs SQL on a session through the Data API itself, as a client other than Spectra would. */
  async function onSession(sessionId: string, sql: string): Promise<DescribeStatementResponse> {
    const { Id } = await api.redshiftData.send(
      new ExecuteStatementCommand({ SessionId: sessionId, Sql: sql }),
    );
    return api.redshiftData.send(new DescribeStatementCommand({ Id, WaitTimeSeconds: 20 }));
  }

  /** How the Data API ended each statement of `sessionId` whose SQL contains `text`. */
  async function statementsOn(
    sessionId: string,
    text: string,
  ): Promise<DescribeStatementResponse[]> {
    const listed = (await api.listStatements()).filter(
      (statement) => statement.SessionId === sessionId && statement.QueryString?.includes(text),
    );
    return Promise.all(
      listed.map((statement) =>
        api.redshiftData.send(new DescribeStatementCommand({ Id: statement.Id })),
      ),
    );
  }

  /**
   * The execution's statement failed on the dirty session with the failed-transaction error
   * (once), and the execution then succeeded on another session with `rows`.
   */
  function expectReplaced(
    ended: EndedExecution,
    dirtySessionId: string,
    onDirtySession: DescribeStatementResponse[],
    rows: unknown[][],
  ): void {
    expect(onDirtySession.map((statement) => [statement.Status, statement.Error])).toEqual([
      [
        'FAILED',
        'ERROR: current transaction is aborted, commands ignored until end of transaction block',
      ],
    ]);
    expect(ended.status, JSON.stringify(ended.cause ?? ended.error)).toBe('SUCCEEDED');
    expect(ended.output?.rows).toEqual(rows);
    expect(ended.output?.sessionId).not.toBe(dirtySessionId);
  }

  const invalidations = async () => (await api.counters()).lambdaInvocations.InvalidateSession ?? 0;

  /** Closes every session the Data API has open, as keep-alives running out would. */
  async function closeEverySession(): Promise<void> {
    for (const status of ['AVAILABLE', 'BUSY'] as const)
      for (const session of await api.sessionsWithStatus(status))
        await api.control('sessions/expire', { sessionId: session.SessionId });
  }

  return {
    /** The stack and its API, once the suite's beforeAll has run. */
    started(): { stack: LocalStack; api: StackApi } {
      if (!stack) throw new Error('The session hygiene suite has not started');
      return { stack, api };
    },
    tenant,
    query,
    succeeded,
    rowsOf,
    tenantWithTable,
    rowsCounted,
    insertsAroundAFailure,
    statesEntered,
    untilEntered,
    onSession,
    statementsOn,
    expectReplaced,
    invalidations,
    closeEverySession,
  };
}
