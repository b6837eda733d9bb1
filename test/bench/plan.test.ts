import { describe, expect, it } from 'vitest';
import { FULL_PLAN, parseCommandLine, QUICK_PLAN } from '../../bench/plan.ts';

/** The benchmark's command line: the plan it picks and the options it refuses. */

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
    expect(parseCommandLine(['--only', 'bundles'], 'out').only).toBe('bundles');
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
