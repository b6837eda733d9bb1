import { randomUUID } from 'node:crypto';
import { beforeAll, expect, it } from 'vitest';
import type { StackApi } from '../../../bench/chaos/stack-api.ts';
import { STATES } from '../../../statemachine/definition.ts';
import type { HygieneSuite } from './context.ts';

/**
 * A reused session inside a failed transaction is replaced, whether Submit Query or Poll Status
 * sees the answer, and on PostgreSQL also when a transaction really failed on the session.
 */

export function describeDirtySessions(suite: HygieneSuite, engineName: string): void {
  let api: StackApi;
  beforeAll(() => {
    ({ api } = suite.started());
  });

  it('replaces a reused session that answers it is inside a failed transaction', async () => {
    // Prepare: the tenant's pooled session, then put in a failed transaction.
    const { tenantId } = await suite.tenantWithTable('failed');
    const first = await suite.succeeded({ tenantId, sql: 'select 1' });
    const sessionId = first.sessionId as string;
    await api.control('sessions/fail-transaction', { sessionId });
    const before = await suite.invalidations();

    // Act
    const ended = await suite.query({ tenantId, sql: 'select 2 as n' });
    const invalidated = (await suite.invalidations()) - before;
    const records = await api.sessionRecords();

    // Assess
    expect(ended.status).toBe('SUCCEEDED');
    expect(ended.output?.rows).toEqual([[2]]);
    expect(ended.output?.sessionId).not.toBe(sessionId);
    expect(invalidated).toBe(1);
    expect(records.map((record) => record.session_id)).not.toContain(sessionId);
  });

  it('replaces a reused session whose statement, still running when Submit Query returned, ends in a failed transaction', async () => {
    // Prepare: the tenant's pooled session in a failed transaction, and its next statement held
    // STARTED, so that Submit Query's wait ends with it running and Poll Status sees it end.
    const { tenantId, table } = await suite.tenantWithTable('polled');
    const first = await suite.succeeded({ tenantId, sql: 'select 1' });
    const sessionId = first.sessionId as string;
    await api.control('sessions/fail-transaction', { sessionId });
    const marker = `${table}_polled`;
    await api.control('statements/hold', { sqlContains: marker });
    const before = await suite.invalidations();

    // Act
    const arn = await api.start(randomUUID(), { tenantId, sql: `select 2 as ${marker}` });
    await suite.untilEntered(arn, STATES.poll);
    const heldAtPoll = (await api.counters()).redshiftData.statementsHeld;
    await api.control('statements/release', { sqlContains: marker });
    const ended = await api.waitForEnd(arn, Date.now() + 60_000, 25);
    const entered = await suite.statesEntered(arn);
    const invalidated = (await suite.invalidations()) - before;
    const onDirtySession = await suite.statementsOn(sessionId, marker);
    const records = await api.sessionRecords();

    // Assess
    expect(heldAtPoll).toBe(1);
    suite.expectReplaced(ended, sessionId, onDirtySession, [[2]]);
    expect(entered.slice(0, 4)).toEqual([
      STATES.acquire,
      STATES.submit,
      STATES.queryFinished,
      STATES.poll,
    ]);
    // However many polls it took, the failed-transaction answer came to Poll Status.
    expect(entered.slice(entered.indexOf(STATES.invalidate) - 1)).toEqual([
      STATES.poll,
      STATES.invalidate,
      STATES.submit,
      STATES.queryFinished,
      STATES.release,
      STATES.fetch,
      STATES.succeeded,
    ]);
    expect(invalidated).toBe(1);
    expect(records.map((record) => record.session_id)).not.toContain(sessionId);
  });

  // Only PostgreSQL keeps a transaction open between statements: PGlite refuses BEGIN.
  if (engineName === 'PostgreSQL') {
    it('replaces a pooled session that a real failed transaction holds, and drops it from the pool', async () => {
      // Prepare: the tenant's pooled session, put in a failed transaction by a client that
      // reaches it through the Data API without Spectra's refusal of transaction control.
      const { tenantId, table } = await suite.tenantWithTable('aborted');
      const first = await suite.succeeded({ tenantId, sql: `insert into ${table} values (1)` });
      const sessionId = first.sessionId as string;
      const begun = await suite.onSession(sessionId, 'begin');
      const failing = await suite.onSession(sessionId, `insert into ${table} values (1 / 0)`);
      const before = await suite.invalidations();

      // Act
      const ended = await suite.query({ tenantId, sql: `select count(*) as n from ${table}` });
      const invalidated = (await suite.invalidations()) - before;
      const onDirtySession = await suite.statementsOn(sessionId, 'count(*)');
      const records = await api.sessionRecords();

      // Assess
      expect(begun.Status).toBe('FINISHED');
      expect(failing.Status).toBe('FAILED');
      expect(failing.Error).toMatch(/division by zero/);
      // Spectra's statement reached the dirty session first, and PostgreSQL refused it there.
      suite.expectReplaced(ended, sessionId, onDirtySession, [[1]]);
      expect(invalidated).toBe(1);
      expect(records.map((record) => record.session_id)).not.toContain(sessionId);
    });
  }
}
