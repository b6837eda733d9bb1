import { describe, expect, it } from 'vitest';
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

/** The benchmark's statistics and its Zipf workload: percentiles, spreads, ratios, seeded draws. */

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
