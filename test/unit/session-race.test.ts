import {
  DescribeStatementCommand,
  type DescribeStatementCommandInput,
  ExecuteStatementCommand,
} from '@aws-sdk/client-redshift-data';
import { DeleteCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type RaceRequest, raceForSession } from '../../functions/common/session-race.ts';
import type { SessionRecord } from '../../functions/common/session-record.ts';
import { submitQuery } from '../../functions/submit.ts';
import { ddb, pooledSession, redshift } from '../support/mocked-clients.ts';
import { submitEvent } from '../support/query-state.ts';
import { conditionFailed } from '../support/service-answers.ts';
import { EXECUTION_ARN, NOW, unitDeps } from '../support/unit-deps.ts';

/**
 * The wait of a query whose tenant has every session leased, below the cap, on a clock the test
 * moves (vitest's fake timers drive both the clock and every pause): it ends when the session it
 * opens is ready, or earlier when one is given back, and never after its budget. When one is
 * given back first, Submit Query sends its statement on it while the opening settles, and ends
 * only once the opening has.
 */

/** What opening a session costs in these tests: its `select 1` ends this long after it starts. */
const OPEN_MS = 300;

const RESERVATION = { claim: 'claim-1', slot: 1, totalSlot: 5, reservedAt: NOW.toISOString() };

const session = (id: string, fields: Partial<SessionRecord> = {}): SessionRecord =>
  pooledSession({ session_id: id, ...fields });
const leasedElsewhere = {
  state: 'LEASED' as const,
  lease_owner: 'other',
  lease_expires_at: '2026-11-28T12:05:00.000Z',
};

const elapsed = () => Date.now() - NOW.getTime();
const recordKey = { pool_id: `#execution#${EXECUTION_ARN}`, session_id: 'execution' };

/**
 * The pool as the Data API and DynamoDB see it: the other execution gives its session back
 * `releasedAfterMs` after the wait began (never, if undefined), and the opening `select 1` ends
 * after `openMs` (never, if undefined). DescribeStatement long-polls as the service does.
 */
function scenario({ releasedAfterMs, openMs }: { releasedAfterMs?: number; openMs?: number }) {
  const poolReads: number[] = [];
  ddb.on(QueryCommand).callsFake(() => {
    poolReads.push(elapsed());
    const given = releasedAfterMs !== undefined && elapsed() >= releasedAfterMs;
    return { Items: [session('busy', given ? {} : leasedElsewhere)] };
  });
  ddb.on(UpdateCommand).resolves({});
  ddb
    .on(UpdateCommand, { Key: { pool_id: 'acme#tenant_acme', session_id: 'busy' } })
    .callsFake(() => ({
      Attributes: session('busy', { state: 'LEASED', lease_owner: EXECUTION_ARN }),
    }));
  ddb.on(PutCommand).resolves({});
  redshift
    .on(ExecuteStatementCommand)
    .resolves({ Id: 'opening', SessionId: 'spare', Status: 'SUBMITTED' });
  redshift.on(DescribeStatementCommand).callsFake((input: DescribeStatementCommandInput) => {
    const ready = openMs === undefined ? Number.POSITIVE_INFINITY : openMs;
    const answerAt = Math.min(elapsed() + (input.WaitTimeSeconds ?? 0) * 1000, ready);
    return new Promise((resolve) =>
      setTimeout(
        () => resolve({ Id: 'opening', Status: elapsed() >= ready ? 'FINISHED' : 'STARTED' }),
        answerAt - elapsed(),
      ),
    );
  });
  return { poolReads };
}

/** Deps on the faked clock, whose pauses the faked timers end. */
const fakeTimeDeps = () =>
  unitDeps(
    {},
    () => new Date(),
    (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  );

async function race(budgetMs: number) {
  const { deps } = fakeTimeDeps();
  const request: RaceRequest = {
    tenantId: 'acme',
    dbUser: 'tenant_acme',
    owner: EXECUTION_ARN,
    run: 0,
    reservation: RESERVATION,
    connection: {
      target: { clusterIdentifier: 'analytics' },
      database: 'dev',
      dbUser: 'tenant_acme',
      secretArn: undefined,
    },
    clientToken: 'a'.repeat(64),
    budgetMs,
    lifeNeededSeconds: 3600,
  };
  const racing = raceForSession(deps, request);
  await vi.advanceTimersByTimeAsync(budgetMs + 10_000);
  return racing;
}

/** A race's outcome that took session `sessionId`, from the pool ('pooled') or its own ('opened'). */
const took = (kind: 'pooled' | 'opened', sessionId: string) =>
  expect.objectContaining({ kind, session: expect.objectContaining({ session_id: sessionId }) });

const unleasedSpare = () =>
  ddb
    .commandCalls(UpdateCommand)
    .some(
      (call) =>
        call.args[0].input.Key?.session_id === 'spare' &&
        call.args[0].input.UpdateExpression ===
          'SET #state = :idle REMOVE lease_owner, lease_expires_at',
    );

describe('Function: raceForSession', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    vi.setSystemTime(NOW);
    ddb.reset();
    redshift.reset();
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it('takes the new session when it is ready first: the wait is what opening costs, no more', async () => {
    // Prepare
    scenario({ openMs: OPEN_MS });

    // Act
    const result = await race(30_000);

    // Assess
    expect(result).toEqual(took('opened', 'spare'));
    expect(result.waitedMs).toBe(OPEN_MS);
    expect(ddb).toReceiveCommandWith(PutCommand, {
      Item: expect.objectContaining({
        session_id: 'spare',
        slot_claim: 'claim-1',
        warmup_statement_id: 'opening',
      }),
    });
  });

  it('takes a session given back before the new one is ready, and the new one joins the pool', async () => {
    // Prepare
    scenario({ releasedAfterMs: 100, openMs: OPEN_MS });

    // Act
    const result = await race(30_000);

    // Assess
    expect(result).toEqual(took('pooled', 'busy'));
    expect(result.waitedMs).toBeGreaterThanOrEqual(100);
    expect(result.waitedMs).toBeLessThan(OPEN_MS);
    expect(unleasedSpare()).toBe(true);
  });

  it('passes over a session given back that the Data API closes before the query may end', async () => {
    // Prepare: the session given back was opened 23.5 hours ago; the query may take an hour
    scenario({ openMs: OPEN_MS });
    ddb.on(QueryCommand).callsFake(() => ({
      Items: [
        session('busy', {
          created_at: '2026-11-27T12:30:00.000Z',
          ...(elapsed() >= 100 ? {} : leasedElsewhere),
        }),
      ],
    }));

    // Act
    const result = await race(30_000);

    // Assess
    expect(result).toEqual(took('opened', 'spare'));
  });

  it('reads the pool while its own session is still to be opened, and opens none when one is given back first', async () => {
    // Prepare: the record's write that precedes the open answers after 200 ms; "busy" comes
    // back after 50 ms
    const { poolReads } = scenario({ releasedAfterMs: 50, openMs: OPEN_MS });
    ddb
      .on(UpdateCommand, { Key: recordKey })
      .callsFake(() => new Promise((resolve) => setTimeout(() => resolve({}), 200)));

    // Act
    const result = await race(30_000);

    // Assess
    expect(result).toEqual(took('pooled', 'busy'));
    expect(result.waitedMs).toBeLessThan(200);
    expect(poolReads.filter((at) => at > 0 && at < 200).length).toBeGreaterThan(0);
    expect(redshift).not.toReceiveCommand(ExecuteStatementCommand);
    expect(ddb).toReceiveCommandWith(DeleteCommand, {
      Key: { pool_id: '#slot#acme#tenant_acme', session_id: '1' },
      ExpressionAttributeValues: { ':claim': 'claim-1' },
    });
  });

  it.each([
    ["renews them when the record does not hold them as its run's own", {}, 2],
    [
      'keeps them as they are when AcquireSession of this run reserved them and nothing touched them',
      { Attributes: { reservation: RESERVATION, reservation_run: 0 } },
      0,
    ],
  ])('before opening, the slots: %s', async (_, answer, renewals) => {
    // Prepare
    scenario({ openMs: OPEN_MS });
    ddb.on(UpdateCommand, { Key: recordKey }).resolves(answer);

    // Act
    const result = await race(30_000);

    // Assess
    expect(result).toEqual(expect.objectContaining({ kind: 'opened' }));
    const renewed = ddb
      .commandCalls(UpdateCommand)
      .filter((call) => call.args[0].input.ConditionExpression === 'claim = :claim');
    expect(renewed).toHaveLength(renewals);
  });

  it('never waits past its budget, and reads the pool less than half as often as fifty times a second', async () => {
    // Prepare: the new session never opens and nothing is given back
    const { poolReads } = scenario({});

    // Act
    const result = await race(2_000);

    // Assess
    expect(result).toEqual({ kind: 'none', waitedMs: 2_000, reason: 'deadline' });
    expect(unleasedSpare()).toBe(true);
    expect(poolReads.length).toBeLessThanOrEqual(2 * 20);
  });

  it('takes the session an earlier invocation of the step leased, and keeps the slots it holds', async () => {
    // Prepare: a retried invocation; the earlier one took "busy" and lost its response
    scenario({ openMs: OPEN_MS });
    ddb.on(QueryCommand).resolves({
      Items: [
        session('busy', {
          state: 'LEASED',
          lease_owner: EXECUTION_ARN,
          lease_expires_at: '2026-11-28T12:05:00.000Z',
        }),
      ],
    });

    // Act
    const result = await race(30_000);

    // Assess
    expect(result).toEqual(expect.objectContaining({ kind: 'pooled', waitedMs: 0 }));
    expect(redshift).not.toReceiveCommand(ExecuteStatementCommand);
    expect(ddb).not.toReceiveCommand(PutCommand);
  });

  /** The new session's record, written this long after the wait began: DynamoDB is slow. */
  const RECORDED_AT_MS = 1_000;
  const answerAt = <T>(ms: number, answer: () => T) =>
    new Promise<T>((resolve) => setTimeout(() => resolve(answer()), ms - elapsed()));
  const failAt = (ms: number, error: () => Error) =>
    new Promise((_, reject) => setTimeout(() => reject(error()), ms - elapsed()));
  const serviceUnavailable = () =>
    Object.assign(new Error('service unavailable'), { name: 'InternalServerError' });

  /** Submit Query of a tenant whose every session was leased when AcquireSession looked. */
  function submitting() {
    const { deps } = fakeTimeDeps();
    let endedAt: number | undefined;
    const event = submitEvent(
      { tenantId: 'acme', sql: 'select 2' },
      {
        session: { sessionId: null, reused: false, reservation: RESERVATION, sessionsLeased: true },
      },
    );
    const submitted = submitQuery(event, deps).finally(() => {
      endedAt = elapsed();
    });
    submitted.catch(() => undefined);
    return { deps, submitted, endedAt: () => endedAt };
  }

  /** When the tenant's statement was sent, on which session. */
  function statementSent() {
    const sent: { at: number; sessionId?: string }[] = [];
    redshift.on(ExecuteStatementCommand, { Sql: 'select 2' }).callsFake((input) => {
      sent.push({ at: elapsed(), sessionId: input.SessionId });
      return { Id: 'st-1', Status: 'SUBMITTED' };
    });
    redshift
      .on(DescribeStatementCommand, { Id: 'st-1' })
      .resolves({ Id: 'st-1', Status: 'FINISHED' });
    return sent;
  }

  it('Submit Query sends its statement on a session given back without waiting for the opening to settle, and ends once it has', async () => {
    // Prepare: "busy" comes back after 50 ms; the new session's record is written after 1 s
    scenario({ releasedAfterMs: 50, openMs: OPEN_MS });
    ddb
      .on(PutCommand, { Item: { session_id: 'spare' } })
      .callsFake(() => answerAt(RECORDED_AT_MS, () => ({})));
    const sent = statementSent();

    // Act
    const { submitted, endedAt } = submitting();
    await vi.advanceTimersByTimeAsync(RECORDED_AT_MS - 100);

    // Assess: the statement ran before the new session was recorded, and the step waits for it
    expect(sent).toEqual([{ at: expect.any(Number), sessionId: 'busy' }]);
    expect(sent[0]?.at).toBeLessThan(RECORDED_AT_MS);
    expect(endedAt()).toBeUndefined();
    expect(unleasedSpare()).toBe(false);

    await vi.advanceTimersByTimeAsync(10_000);
    const state = await submitted;
    expect(endedAt()).toBeGreaterThanOrEqual(RECORDED_AT_MS);
    expect(unleasedSpare()).toBe(true);
    expect(state.session).toEqual(expect.objectContaining({ sessionId: 'busy', reused: true }));
    expect(state.statement?.status).toBe('FINISHED');
  });

  it('Submit Query answers with its statement when giving the new session back fails, and says so', async () => {
    // Prepare: the new session's record fails after the statement was sent on "busy"
    scenario({ releasedAfterMs: 50, openMs: OPEN_MS });
    ddb
      .on(PutCommand, { Item: { session_id: 'spare' } })
      .callsFake(() => failAt(RECORDED_AT_MS, serviceUnavailable));
    const sent = statementSent();

    // Act
    const { deps, submitted } = submitting();
    await vi.advanceTimersByTimeAsync(RECORDED_AT_MS + 10_000);
    const state = await submitted;

    // Assess
    expect(sent).toEqual([{ at: expect.any(Number), sessionId: 'busy' }]);
    expect(state.statement).toEqual(
      expect.objectContaining({ statementId: 'st-1', status: 'FINISHED' }),
    );
    expect(deps.telemetry.logger.warn).toHaveBeenCalledWith(
      'Could not give back the session opened while waiting; it is kept until it lapses',
      { error: 'InternalServerError' },
    );
  });

  it('Submit Query of a run stopped while it waited sends nothing, gives back the session given back and, once its opening finds the stop, the slots', async () => {
    // Prepare: the clean-up marked the record stopped; the opening's write finds it only after
    // 200 ms, when "busy" was given back already (at 50 ms)
    scenario({ releasedAfterMs: 50, openMs: OPEN_MS });
    let recordWrites = 0;
    ddb
      .on(UpdateCommand, { Key: recordKey })
      .callsFake(() =>
        recordWrites++ === 0 ? failAt(200, conditionFailed) : Promise.reject(conditionFailed()),
      );

    // Act
    const { submitted, endedAt } = submitting();
    await vi.advanceTimersByTimeAsync(150);
    const endedBeforeTheOpening = endedAt();
    await vi.advanceTimersByTimeAsync(10_000);
    const error = await submitted.catch((thrown: Error) => thrown);

    // Assess
    expect(error).toMatchObject({ name: 'QueryAbortedError' });
    expect(endedBeforeTheOpening).toBeUndefined();
    expect(redshift).not.toReceiveCommand(ExecuteStatementCommand);
    expect(ddb).toReceiveCommandWith(UpdateCommand, {
      Key: { pool_id: 'acme#tenant_acme', session_id: 'busy' },
      UpdateExpression: 'SET #state = :idle REMOVE lease_owner, lease_expires_at',
    });
    expect(ddb).toReceiveCommandWith(DeleteCommand, {
      Key: { pool_id: '#slot#acme#tenant_acme', session_id: '1' },
      ExpressionAttributeValues: { ':claim': 'claim-1' },
    });
  });
});
