import { describe, expect, it } from 'vitest';
import type { ExecutionRecord } from '../../bench/harness.ts';
import {
  classifyMisses,
  largestOpenAtOnce,
  latencyBreakdown,
  type QuerySample,
} from '../../bench/phases/concurrent-figures.ts';
import { STATES } from '../../statemachine/definition.ts';

/**
 * The concurrent workload's figures: why queries missed, where their time went, and the most
 * sessions open at once. Nothing here asserts a time: the machine is shared.
 */

describe('Function: classifyMisses', () => {
  const record = (
    startMs: number,
    stopMs: number,
    sessionReused: boolean,
    states: string[] = [],
  ): ExecutionRecord => ({
    executionArn: `arn:${startMs}`,
    status: 'SUCCEEDED',
    startMs,
    stopMs,
    latencyMs: stopMs - startMs,
    output: { statementId: 's', sessionId: 'x', sessionReused },
    transitions: 6,
    states,
    stateMs: {},
    taskRetries: 0,
    taskErrors: {},
    historyEvents: 14,
    invocations: [],
  });

  it('tells cold, concurrency and refused-session misses apart', () => {
    // Prepare: tenant a's first query (cold), a second one that overlaps it (concurrency), a
    // later hit; tenant b's first query, and one that was handed a busy session (refused).
    const queries = [
      { tenantId: 'a', record: record(0, 100, false) },
      { tenantId: 'a', record: record(10, 120, false) },
      { tenantId: 'a', record: record(200, 250, true) },
      { tenantId: 'b', record: record(5, 50, false) },
      { tenantId: 'b', record: record(60, 90, false, [STATES.invalidate]) },
      { tenantId: 'b', record: record(300, 310, false) },
    ];
    // Act & Assess
    expect(classifyMisses(queries, 'spectra')).toEqual({
      cold: 2,
      concurrency: 1,
      rejected: 1,
      byDesign: 0,
      other: 1,
    });
    expect(classifyMisses(queries, 'noReuse').byDesign).toBe(5);
  });
});
describe('Function: latencyBreakdown', () => {
  it('splits the time of every query and of the slowest 5% by path and state', () => {
    // Prepare: 19 leased hits of 100 ms, and one race of 1000 ms spent in Submit Query
    const hit: QuerySample = {
      path: 'leased',
      reused: true,
      firstWave: false,
      latencyMs: 100,
      stateMs: { [STATES.acquire]: 20, [STATES.submit]: 50, [STATES.release]: 10 },
    };
    const race: QuerySample = {
      path: 'race',
      reused: false,
      firstWave: true,
      latencyMs: 1000,
      stateMs: { [STATES.acquire]: 20, [STATES.submit]: 900, [STATES.release]: 10 },
    };
    // Act
    const breakdown = latencyBreakdown([...Array.from({ length: 19 }, () => hit), race]);
    // Assess
    expect(breakdown.all.map((path) => [path.path, path.queries, path.reused])).toEqual([
      ['all', 20, 19],
      ['leased', 19, 19],
      ['race', 1, 0],
    ]);
    expect(breakdown.tail).toEqual([
      expect.objectContaining({
        path: 'all',
        queries: 1,
        firstWave: 1,
        submitMs: 900,
        otherMs: 70,
      }),
      expect.objectContaining({ path: 'race', queries: 1, acquireMs: 20, p50Ms: 1000 }),
    ]);
    expect(breakdown.all[1]).toMatchObject({
      acquireMs: 20,
      submitMs: 50,
      otherMs: 20,
      firstWave: 0,
    });
  });
});

describe('Function: largestOpenAtOnce', () => {
  it('counts the sessions open at the same time, per database user and in all', () => {
    // Prepare: a's two sessions overlap; b's one overlaps both; a's third opens as one closes
    const sessions = [
      { dbUser: 'a', openedMs: 0, closedMs: 10 },
      { dbUser: 'a', openedMs: 5, closedMs: 20 },
      { dbUser: 'a', openedMs: 20, closedMs: 30 },
      { dbUser: 'b', openedMs: 6, closedMs: 8 },
    ];

    // Act / Assess
    expect(largestOpenAtOnce(sessions)).toEqual({ perUser: 2, total: 3 });
    expect(largestOpenAtOnce([])).toEqual({ perUser: 0, total: 0 });
  });
});
