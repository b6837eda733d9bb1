import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import {
  acquireOutcomeOf,
  type Counters,
  counterDelta,
  type ExecutionRecord,
  summarizeHistory,
} from '../../bench/harness.ts';
import {
  classifyMisses,
  largestOpenAtOnce,
  latencyBreakdown,
  type QuerySample,
} from '../../bench/phases/concurrent-figures.ts';
import { mapLimit, rotate } from '../../bench/phases/context.ts';
import { FULL_PLAN, parseCommandLine, QUICK_PLAN } from '../../bench/plan.ts';
import {
  median,
  percentile,
  ratio,
  seededRandom,
  spreadOf,
  zipfProbabilities,
  zipfSampler,
  zipfSequence,
} from '../../bench/stats.ts';
import { STATES } from '../../statemachine/definition.ts';

/**
 * The benchmark's pure pieces: statistics, the Zipf workload, how executions and counters are
 * read, how misses are classified, the command line. (The result file of a tiny run on the local
 * stack is checked in benchmark-run.test.ts.) Nothing here asserts a time: the machine is shared.
 */

describe('Function: percentile', () => {
  it('interpolates between the nearest ranks', () => {
    // Prepare
    const values = [40, 10, 30, 20];
    // Act & Assess
    expect(percentile(values, 0)).toBe(10);
    expect(percentile(values, 100)).toBe(40);
    expect(percentile(values, 50)).toBe(25);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 95)).toBeCloseTo(10.5);
    expect(percentile([7], 95)).toBe(7);
  });

  it('does not reorder the caller’s list', () => {
    const values = [3, 1, 2];
    percentile(values, 50);
    expect(values).toEqual([3, 1, 2]);
  });

  it.each([
    [[], 50],
    [[1], -1],
    [[1], 101],
    [[1], Number.NaN],
  ])('throws for %j at p=%d', (values, p) => {
    expect(() => percentile(values, p)).toThrow(RangeError);
  });
});

describe('Function: median and spreadOf', () => {
  it('gives the median with the range and the number of runs', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([1, 2, 3, 4])).toBe(2.5);
    expect(spreadOf([9, 1, 5, 3])).toEqual({ median: 4, min: 1, max: 9, runs: 4 });
  });

  it('throws for no runs', () => {
    expect(() => spreadOf([])).toThrow(RangeError);
  });
});

describe('Function: ratio', () => {
  it('divides, and has no ratio against a zero baseline', () => {
    expect(ratio(1, 4)).toBe(0.25);
    expect(ratio(3, 0)).toBeNull();
  });
});

describe('Function: zipfProbabilities', () => {
  it('sums to 1 and falls as 1/k^s', () => {
    // Act
    const p = zipfProbabilities(20, 1);
    // Assess
    expect(p.reduce((sum, x) => sum + x, 0)).toBeCloseTo(1, 12);
    expect((p[0] as number) / (p[1] as number)).toBeCloseTo(2, 12);
    expect((p[0] as number) / (p[19] as number)).toBeCloseTo(20, 12);
    expect(zipfProbabilities(4, 0)).toEqual([0.25, 0.25, 0.25, 0.25]);
  });

  it.each([
    [0, 1],
    [2.5, 1],
    [3, -1],
  ])('throws for n=%d, s=%d', (n, s) => {
    expect(() => zipfProbabilities(n, s)).toThrow(RangeError);
  });
});

describe('Function: zipfSampler', () => {
  it('draws ranks whose frequencies follow the distribution', () => {
    // Prepare
    const n = 5;
    const draw = zipfSampler(n, 1, seededRandom(7));
    const counts = new Array<number>(n).fill(0);
    // Act
    for (let i = 0; i < 50_000; i++) {
      const rank = draw();
      counts[rank] = (counts[rank] ?? 0) + 1;
    }
    // Assess: every draw a valid rank, each frequency within 1.5 points of its probability
    expect(counts.reduce((sum, x) => sum + x, 0)).toBe(50_000);
    zipfProbabilities(n, 1).forEach((p, rank) => {
      expect(Math.abs((counts[rank] as number) / 50_000 - p)).toBeLessThan(0.015);
    });
  });

  it('maps the ends of [0, 1) to the first and last rank', () => {
    expect(zipfSampler(3, 1, () => 0)()).toBe(0);
    expect(zipfSampler(3, 1, () => 0.999_999_999)()).toBe(2);
  });
});

describe('Function: zipfSequence', () => {
  it('gives the same sequence for the same seed, another for another seed', () => {
    const a = zipfSequence(20, 1, 200, 42);
    expect(zipfSequence(20, 1, 200, 42)).toEqual(a);
    expect(zipfSequence(20, 1, 200, 43)).not.toEqual(a);
    expect(a.every((rank) => Number.isInteger(rank) && rank >= 0 && rank < 20)).toBe(true);
  });
});

describe('Function: seededRandom', () => {
  it('returns numbers in [0, 1), repeatably', () => {
    const first = seededRandom(1);
    const again = seededRandom(1);
    const values = Array.from({ length: 1000 }, first);
    expect(values.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(Array.from({ length: 1000 }, again)).toEqual(values);
  });
});

describe('Function: counterDelta', () => {
  it('counts DynamoDB and Data API requests and leaves Step Functions calls out', () => {
    // Prepare
    const before: Counters = {
      calls: { 'DynamoDB_20120810.Query': 2, 'AWSStepFunctions.StartExecution': 1 },
      lambdaInvocations: { AcquireSession: 1 },
      redshiftData: { statementsSubmitted: 1, sessionsOpened: 1, busyRejections: 0 },
    };
    const after: Counters = {
      calls: {
        'DynamoDB_20120810.Query': 3,
        'DynamoDB_20120810.UpdateItem': 2,
        'RedshiftData.ExecuteStatement': 1,
        'RedshiftData.GetStatementResult': 1,
        'AWSStepFunctions.StartExecution': 2,
        'AWSStepFunctions.DescribeExecution': 9,
      },
      lambdaInvocations: { AcquireSession: 2, SubmitQuery: 1, ReleaseSession: 1, FetchResults: 1 },
      redshiftData: { statementsSubmitted: 2, sessionsOpened: 1, busyRejections: 3 },
    };
    // Act
    const delta = counterDelta(before, after);
    // Assess
    expect(delta).toEqual({
      lambdaInvocations: 4,
      dynamodbRequests: 3,
      dataApiRequests: 2,
      statementsSubmitted: 1,
      sessionsOpened: 0,
      busyRejections: 3,
      byOperation: {
        'DynamoDB_20120810.Query': 1,
        'DynamoDB_20120810.UpdateItem': 2,
        'RedshiftData.ExecuteStatement': 1,
        'RedshiftData.GetStatementResult': 1,
      },
    });
  });
});

describe('Function: summarizeHistory', () => {
  it('counts every *StateEntered event as a transition and finds when Release Session began', () => {
    // Prepare
    const at = (ms: number) => new Date(ms);
    const entered = (type: string, name: string, ms: number): HistoryEvent => ({
      id: 0,
      type: type as HistoryEvent['type'],
      timestamp: at(ms),
      stateEnteredEventDetails: { name },
    });
    const events: HistoryEvent[] = [
      { id: 1, type: 'ExecutionStarted', timestamp: at(0) },
      entered('TaskStateEntered', STATES.acquire, 1),
      { id: 3, type: 'TaskScheduled', timestamp: at(1) },
      {
        id: 4,
        type: 'TaskFailed',
        timestamp: at(2),
        taskFailedEventDetails: {
          resourceType: 'lambda',
          resource: 'invoke',
          error: 'SessionPoolExhaustedError',
        },
      },
      { id: 5, type: 'TaskScheduled', timestamp: at(3) },
      entered('TaskStateEntered', STATES.submit, 4),
      { id: 7, type: 'TaskScheduled', timestamp: at(4) },
      entered('ChoiceStateEntered', STATES.queryFinished, 5),
      entered('TaskStateEntered', STATES.release, 6),
      { id: 10, type: 'TaskScheduled', timestamp: at(6) },
      entered('SucceedStateEntered', STATES.succeeded, 7),
    ];
    // Act
    const summary = summarizeHistory(events);
    // Assess
    expect(summary).toEqual({
      transitions: 5,
      states: [
        STATES.acquire,
        STATES.submit,
        STATES.queryFinished,
        STATES.release,
        STATES.succeeded,
      ],
      taskRetries: 1,
      taskErrors: { SessionPoolExhaustedError: 1 },
      releaseEnteredMs: 6,
      historyEvents: events.length,
      // The first attempt ran from 1 to 2 ms and failed; the others have not ended here.
      invocations: [{ functionArn: '', ms: 1 }],
      stateMs: {},
    });
  });

  it('sums the time in each state and says how Acquire Session left the session', () => {
    // Prepare
    const at = (ms: number) => new Date(ms);
    const entered = (name: string, ms: number): HistoryEvent => ({
      id: 0,
      type: 'TaskStateEntered',
      timestamp: at(ms),
      stateEnteredEventDetails: { name },
    });
    const exited = (name: string, ms: number, output = '{}'): HistoryEvent => ({
      id: 0,
      type: 'TaskStateExited',
      timestamp: at(ms),
      stateExitedEventDetails: { name, output },
    });
    const raced = JSON.stringify({
      session: {
        sessionId: null,
        reused: false,
        reservation: { claim: 'c' },
        sessionsLeased: true,
      },
    });
    const events: HistoryEvent[] = [
      entered(STATES.acquire, 100),
      exited(STATES.acquire, 130, raced),
      entered(STATES.submit, 135),
      exited(STATES.submit, 500),
      entered(STATES.poll, 510),
      exited(STATES.poll, 520),
      entered(STATES.poll, 530),
      exited(STATES.poll, 545),
    ];
    // Act
    const summary = summarizeHistory(events);
    // Assess
    expect(summary.stateMs).toEqual({
      [STATES.acquire]: 30,
      [STATES.submit]: 365,
      [STATES.poll]: 25,
    });
    expect(summary.acquired).toBe('race');
  });
});

describe('Function: acquireOutcomeOf', () => {
  it.each([
    [{ session: { sessionId: 's-1', reused: true } }, 'leased'],
    [{ session: { sessionId: null, reused: false, reservation: { claim: 'c' } } }, 'open'],
    [
      {
        session: {
          sessionId: null,
          reused: false,
          reservation: { claim: 'c' },
          sessionsLeased: true,
        },
      },
      'race',
    ],
    [{ session: { sessionId: null, reused: false } }, 'sessionless'],
  ])('reads %j as %s', (output, expected) => {
    expect(acquireOutcomeOf(JSON.stringify(output))).toBe(expected);
  });
});

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

describe('Function: rotate and mapLimit', () => {
  it('rotates so that each item leads in turn', () => {
    expect(rotate(['a', 'b', 'c'], 0)).toEqual(['a', 'b', 'c']);
    expect(rotate(['a', 'b', 'c'], 4)).toEqual(['b', 'c', 'a']);
    expect(rotate([], 3)).toEqual([]);
  });

  it('keeps the order of the results and at most `limit` calls in flight', async () => {
    let inFlight = 0;
    let most = 0;
    const results = await mapLimit([5, 4, 3, 2, 1], 2, async (value) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setTimeout(resolve, value));
      inFlight--;
      return value * 10;
    });
    expect(results).toEqual([50, 40, 30, 20, 10]);
    expect(most).toBe(2);
  });
});

describe('Function: parseCommandLine', () => {
  it('picks the full or quick plan and applies the options', () => {
    expect(parseCommandLine([], 'out').plan).toEqual(FULL_PLAN);
    const quick = parseCommandLine(['--quick', '--tenants', '5', '--open-latency-ms', '0'], 'out');
    expect(quick.plan.mode).toBe('quick');
    expect(quick.plan.concurrent.tenants).toBe(5);
    expect(quick.plan.concurrent.queries).toBe(QUICK_PLAN.concurrent.queries);
    expect(quick.plan.openSessionLatencyMs).toBe(0);
    expect(quick.outDir).toBe('out');
    expect(parseCommandLine(['--only', 'results'], 'out').only).toBe('results');
    expect(parseCommandLine(['--only', 'pool'], 'out').only).toBe('pool');
  });

  it.each([
    [['--engine', 'mysql']],
    [['--tenants', '0']],
    [['--tenants', '100']],
    [['--zipf', '-1']],
    [['--only', 'polling']],
    [['--nonsense']],
  ])('throws for %j', (argv) => {
    expect(() => parseCommandLine(argv, 'out')).toThrow();
  });
});

describe('Function: latencyBreakdown', () => {
  it('splits the time of every query and of the slowest 5% by path and state', () => {
    // Prepare: 19 leased hits of 100 ms, and one race of 1000 ms spent in Submit Query
    const hit: QuerySample = {
      path: 'leased',
      reused: true,
      latencyMs: 100,
      stateMs: { [STATES.acquire]: 20, [STATES.submit]: 50, [STATES.release]: 10 },
    };
    const race: QuerySample = {
      path: 'race',
      reused: false,
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
      expect.objectContaining({ path: 'all', queries: 1, submitMs: 900, otherMs: 70 }),
      expect.objectContaining({ path: 'race', queries: 1, acquireMs: 20, p50Ms: 1000 }),
    ]);
    expect(breakdown.all[1]).toMatchObject({ acquireMs: 20, submitMs: 50, otherMs: 20 });
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
