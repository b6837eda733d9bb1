import { describe, expect, it } from 'vitest';
import { runChaos } from '../../bench/chaos/chaos.ts';
import { FAULT_KINDS } from '../../bench/chaos/faults.ts';

/**
 * A small chaos run with a fixed seed, the same harness as `npm run chaos`: INSERT and SELECT
 * executions across tenants while every kind of fault is injected, then every invariant checked
 * from what Step Functions, the Data API, the audit tables and the sessions table report.
 * (The full run, and the table it prints, is `tsx bench/chaos/run.ts`.)
 */

describe('Reliability: chaos run', () => {
  it('keeps every invariant while every kind of fault is injected', async () => {
    // Act
    const report = await runChaos({
      seed: 20_261_128,
      executions: 60,
      tenants: 3,
      concurrency: 6,
      maxDataApiSessions: 2,
      faultIntervalMs: [50, 150],
      slowInsertShare: 0.2,
      dirtyShare: 0.25,
      executionTimeoutMs: 150_000,
      // Covered case by case in bad-input.test.ts.
      badInputs: false,
    });

    // Assess
    const broken = Object.entries(report.invariants).filter(([, invariant]) => !invariant.holds);
    expect(broken).toEqual([]);
    expect(report.executions).toBeGreaterThanOrEqual(60);
    const notMet = [...FAULT_KINDS, 'session-limit' as const].filter(
      (kind) => report.faults[kind].injected === 0,
    );
    expect(notMet).toEqual([]);
    expect(report.invariants['dirt-refused-or-dropped']?.dirtExecutions).toBeGreaterThan(0);
    expect(report.invariants['no-session-state-observed']?.probedSelects).toBeGreaterThan(0);
    expect(report.invariants['no-pool-above-its-cap']?.samples).toBeGreaterThan(0);
    expect(report.invariants['no-session-outside-the-pool']).toBeDefined();
  }, 300_000);
});
