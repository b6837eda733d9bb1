/**
 * The benchmark's arithmetic: percentiles, medians with their spread, ratios, and the seeded Zipf
 * sampler that draws the multi-tenant workload. Pure functions, so that test/bench can check the
 * math without running anything.
 */

/**
 * The p-th percentile (0-100) of `values`, interpolated linearly between the two nearest ranks
 * (the method spreadsheets and NumPy use by default), so that p50 of an even count is the mean
 * of the middle two and small samples do not jump from one value to the next.
 *
 * @throws {RangeError} for an empty list or a p outside 0-100.
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new RangeError('percentile of an empty list');
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be from 0 to 100; got ${p}`);
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const lower = Math.floor(rank);
  const upper = Math.ceil(rank);
  const low = sorted[lower] as number;
  const high = sorted[upper] as number;
  return low + (high - low) * (rank - lower);
}

export const median = (values: readonly number[]): number => percentile(values, 50);

/** A median over repeated runs, with the range the runs covered. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  /** How many runs the figures come from. */
  runs: number;
}

export function spreadOf(values: readonly number[]): Spread {
  if (values.length === 0) throw new RangeError('spread of an empty list');
  return {
    median: median(values),
    min: Math.min(...values),
    max: Math.max(...values),
    runs: values.length,
  };
}

/** `value / baseline`, or null when the baseline is 0 (no ratio means anything then). */
export function ratio(value: number, baseline: number): number | null {
  return baseline === 0 ? null : value / baseline;
}

/** Rounds for the report: whole numbers stay whole, others keep `digits` decimals. */
export function round(value: number, digits = 1): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/**
 * mulberry32: a small seeded PRNG with a 2^32 period, plenty for drawing a few thousand tenants.
 * Seeded, so every variant of a run (and every rerun) gets the same workload.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** The Zipf probabilities of ranks 1..n with exponent s: P(k) ∝ 1 / k^s. */
export function zipfProbabilities(n: number, s: number): number[] {
  if (!Number.isInteger(n) || n < 1)
    throw new RangeError(`n must be a whole number >= 1; got ${n}`);
  if (!(s >= 0)) throw new RangeError(`s must be >= 0; got ${s}`);
  const weights = Array.from({ length: n }, (_, index) => 1 / (index + 1) ** s);
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  return weights.map((weight) => weight / total);
}

/**
 * Draws ranks 0..n-1 with Zipf-skewed frequencies (rank 0 the most frequent), by inverting the
 * cumulative distribution with a binary search.
 */
export function zipfSampler(n: number, s: number, random: () => number): () => number {
  const cumulative: number[] = [];
  let sum = 0;
  for (const p of zipfProbabilities(n, s)) {
    sum += p;
    cumulative.push(sum);
  }
  // Rounding can leave the last sum a hair under 1; a draw above it must still land on a rank.
  cumulative[n - 1] = 1;
  return () => {
    const u = random();
    let low = 0;
    let high = n - 1;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (u < (cumulative[middle] as number)) high = middle;
      else low = middle + 1;
    }
    return low;
  };
}

/** `count` Zipf draws over n ranks from a seed: the same seed gives the same sequence. */
export function zipfSequence(n: number, s: number, count: number, seed: number): number[] {
  const draw = zipfSampler(n, s, seededRandom(seed));
  return Array.from({ length: count }, draw);
}
