import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { stateGraph } from '../../local/console/graph.ts';
import { SessionHitRate, sessionHitOf } from '../../local/console/hit-rate.ts';
import { QUERY_DEFINITION_FILE, STATES } from '../../statemachine/definition.ts';

/** What the console draws and charts, computed on the server: the graph's edges and the hit rate. */

describe('Function: stateGraph', () => {
  const graph = stateGraph(JSON.parse(readFileSync(QUERY_DEFINITION_FILE, 'utf8')));
  const edgesFrom = (state: string) =>
    graph.edges.filter((e) => e.from === state).map((e) => [e.to, e.kind, e.label]);

  it('has every state of the definition once, starting at Acquire Session', () => {
    expect(graph.startAt).toBe(STATES.acquire);
    expect(graph.states.map((s) => s.name).sort()).toEqual(Object.values(STATES).sort());
  });

  it("draws a Choice's rules with the value each matches, and its Default", () => {
    expect(edgesFrom(STATES.queryFinished)).toEqual([
      [STATES.release, 'choice', 'FINISHED'],
      [STATES.releaseAfterFailure, 'choice', 'cancelledFor set'],
      [STATES.releaseAfterFailure, 'choice', 'FAILED or ABORTED'],
      [STATES.poll, 'choice', 'waitSeconds = 0'],
      [STATES.waitForQuery, 'default', 'otherwise'],
    ]);
  });

  it('draws each Catch with its errors: named when few, counted when many, all in the title', () => {
    const catches = graph.edges.filter((e) => e.from === STATES.submit && e.kind === 'catch');
    expect(catches.map((e) => [e.to, e.label])).toEqual([
      [STATES.invalidate, 'StaleSessionError'],
      [STATES.releaseAfterFailure, '11 errors'],
    ]);
    expect(catches[1]?.title).toContain('QueryFailedError');
  });
});

describe('Class: SessionHitRate', () => {
  it('counts hits and misses per bucket, and keeps only the last hour', () => {
    // Prepare
    let now = Date.parse('2026-11-28T12:00:05Z');
    const rate = new SessionHitRate(10_000, 60 * 60 * 1000, () => now);

    // Act
    rate.record(true);
    rate.record(false);
    now += 10_000;
    rate.record(true);
    now += 2 * 60 * 60 * 1000;
    rate.record(false);

    // Assess
    expect(rate.series()).toEqual([
      { start: Date.parse('2026-11-28T14:00:10Z'), hits: 0, misses: 1 },
    ]);
  });

  it('reads a hit from an AcquireSession result that names a pooled session, a miss otherwise', () => {
    const acquired = (session: unknown) =>
      sessionHitOf('AcquireSession', {}, { Payload: { session } });
    expect(acquired({ sessionId: 'sess-1', reused: true })).toBe(true);
    expect(acquired({ sessionId: null, reused: false })).toBe(false);
    expect(sessionHitOf('AcquireSession', {}, undefined)).toBeUndefined();
  });

  it('leaves the call to SubmitQuery when every session was leased, and counts it once', () => {
    // Prepare: AcquireSession found every session leased; SubmitQuery got one given back
    const leased = { sessionId: null, reused: false, sessionsLeased: true };
    const submitted = { Payload: { session: { sessionId: 'sess-2', reused: true } } };

    // Act / Assess
    expect(sessionHitOf('AcquireSession', {}, { Payload: { session: leased } })).toBeUndefined();
    expect(sessionHitOf('SubmitQuery', { session: leased }, submitted)).toBe(true);
    expect(
      sessionHitOf(
        'SubmitQuery',
        { session: leased },
        { Payload: { session: { sessionId: 'new', reused: false } } },
      ),
    ).toBe(false);
    // A SubmitQuery after a hit does not count again.
    expect(
      sessionHitOf('SubmitQuery', { session: { sessionId: 'sess-1', reused: true } }, submitted),
    ).toBeUndefined();
  });
});
