import { randomUUID } from 'node:crypto';
import { ListStatementsCommand } from '@aws-sdk/client-redshift-data';
import { describe, expect, it } from 'vitest';
import type { StackApi } from '../../bench/chaos/stack-api.ts';
import { DEFAULT_DB_USER_TEMPLATE, dbUserFor } from '../../functions/common/config.ts';
import { holdKey } from '../../local/faults.ts';
import { useStackWithApi } from '../support/local-stack.ts';
import { newTenant, openSessionsOf, poolOf, untilQuiet } from '../support/pool-checks.ts';

/**
 * StopExecution at every step boundary of Submit Query: before each of its DynamoDB and Data API
 * calls is carried out, once it is carried out and before its answer is back, and inside its
 * long-poll. Step Functions does not stop a running Lambda, so Submit Query goes on after the
 * stop and the clean-up (CancelStoppedExecution) runs beside it. Whatever the boundary, the
 * query's statement must not run on: nothing it wrote is committed, no statement is left running,
 * no lease held, no session open that the pool does not hold, and no slot held that no session
 * of the pool holds.
 *
 * The stop lands where the test puts it: the test holds the call with the fault controls, stops
 * the execution (StopExecution returns once the clean-up has run), and then lets the call go on.
 * The query's statement is held by the Data API until the end, so it cannot commit before the stop.
 */

// The long-poll waits on the server until the statement ends: the stop can land inside it.
process.env.SPECTRA_SUBMIT_WAIT_SECONDS = '20';

const { api: stackApi } = useStackWithApi();

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const UPDATE_ITEM = 'DynamoDB_20120810.UpdateItem';
const PUT_ITEM = 'DynamoDB_20120810.PutItem';
const BATCH_EXECUTE = 'RedshiftData.BatchExecuteStatement';
const DESCRIBE = 'RedshiftData.DescribeStatement';

interface Call {
  /** What Submit Query does in that call. */
  step: string;
  target: string;
  /** Calls of the target Submit Query makes before this one. */
  after: number;
}

/**
 * Submit Query's calls when it opens a new session on the slots Acquire reserved, in order (the
 * session and then the statement are recorded while the long-poll begins). A first submission on
 * this run's own reservation does not renew its slots.
 */
const OPENING_A_SESSION: Call[] = [
  { step: 'records its submission', target: UPDATE_ITEM, after: 0 },
  { step: 'submits the statement, opening a session', target: BATCH_EXECUTE, after: 0 },
  { step: 'records the new session', target: PUT_ITEM, after: 0 },
  { step: 'records the statement', target: UPDATE_ITEM, after: 1 },
  { step: 'long-polls', target: DESCRIBE, after: 0 },
];
/**
 * And when it reuses the session Acquire leased: it records no submission first, and a stop's
 * clean-up finds the submission by Submit Query's input in the history. The statement is recorded
 * while the long-poll begins.
 */
const ON_A_POOLED_SESSION: Call[] = [
  { step: 'submits the statement on the session', target: BATCH_EXECUTE, after: 0 },
  { step: 'records the statement', target: UPDATE_ITEM, after: 0 },
  { step: 'long-polls', target: DESCRIBE, after: 0 },
];

type Landing = 'before' | 'once carried out' | 'inside';

const cases = (calls: Call[], pooled: boolean) =>
  calls.flatMap((call) =>
    (call.target === DESCRIBE
      ? (['before', 'inside'] as const)
      : (['before', 'once carried out'] as const)
    ).map((landing: Landing) => ({ ...call, landing, pooled })),
  );

async function until(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await sleep(10);
}

const heldNow = async (api: StackApi, key: string) => ((await api.counters()).held[key] ?? 0) > 0;

/** The statements of `name` the Data API knows, in every status. */
async function statementsNamed(api: StackApi, name: string) {
  const { Statements = [] } = await api.redshiftData.send(
    new ListStatementsCommand({ Status: 'ALL', StatementName: name, MaxResults: 100 }),
  );
  return Statements;
}

describe('Reliability: StopExecution at every step boundary of Submit Query', () => {
  it.each([...cases(OPENING_A_SESSION, false), ...cases(ON_A_POOLED_SESSION, true)])(
    'on $step, stopped $landing the call ($target; pooled session: $pooled): no write, statement, lease, stray session or slot left',
    async ({ target, after, landing, pooled }) => {
      // Prepare: the tenant (with one idle session in its pool for the pooled case), and its
      // query, a transaction that creates a table and writes to it, held before it runs
      const api = stackApi();
      const tenantId = await newTenant(api, 'stop');
      const dbUser = dbUserFor(tenantId, DEFAULT_DB_USER_TEMPLATE);
      if (pooled) {
        const warm = await api.start(randomUUID(), { tenantId, sql: 'select 1' });
        expect((await api.waitForEnd(warm, Number.POSITIVE_INFINITY)).status).toBe('SUCCEEDED');
      }
      const marker = `hold-${randomUUID()}`;
      const table = `stopped_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
      const statementName = `stop-${marker}`;
      await api.control('statements/hold', { sqlContains: marker });
      await api.control('holds', { target: 'Lambda.SubmitQuery' });
      const executionArn = await api.start(randomUUID(), {
        tenantId,
        statementName,
        statements: [
          `create table ${table} (id varchar(64))`,
          `insert into ${table} values ('${marker}')`,
        ],
      });
      await until(() => heldNow(api, 'Lambda.SubmitQuery'));

      // Act: the call held where the stop is to land, then the stop, then the call goes on
      const phase = landing === 'once carried out' ? 'response' : 'request';
      if (landing !== 'inside') await api.control('holds', { target, after, phase });
      const callsBefore = (await api.counters()).calls[target] ?? 0;
      await api.control('holds/release', { target: 'Lambda.SubmitQuery' });
      if (landing === 'inside')
        await until(async () => ((await api.counters()).calls[target] ?? 0) > callsBefore);
      else await until(() => heldNow(api, holdKey(target, phase)));
      await api.stop(executionArn, 'test');
      await api.control('holds/release', { target, phase });
      await untilQuiet(api);
      const running = (await statementsNamed(api, statementName)).filter((s) =>
        ['SUBMITTED', 'PICKED', 'STARTED'].includes(s.Status ?? ''),
      );
      await api.control('statements/release', { sqlContains: marker });
      await untilQuiet(api);

      // Assess
      expect((await api.describe(executionArn)).status).toBe('ABORTED');
      expect(running).toEqual([]);
      const written = await api.queryAs(dbUser, `select id from ${table}`);
      expect(written.rows).toEqual([]);
      if (written.status === 'FAILED') expect(written.error).toMatch(/does not exist/);
      const pool = await poolOf(api, tenantId);
      expect(pool.filter((r) => r.state === 'LEASED')).toEqual([]);
      const open = await openSessionsOf(api, tenantId);
      expect(open.map((s) => s.SessionId).sort()).toEqual(pool.map((r) => r.session_id).sort());
      const slots = (await api.tableItems()).filter((item) =>
        item.pool_id.startsWith(`#slot#${tenantId}#`),
      );
      expect(slots.map((slot) => slot.claim).sort()).toEqual(pool.map((r) => r.slot_claim).sort());
    },
    60_000,
  );
});
