import type { Harness } from '../harness.ts';
import type { BenchPlan } from '../model.ts';

/** What every phase gets: the stack's client side, the state machines to compare, the plan. */
export interface PhaseContext {
  harness: Harness;
  plan: BenchPlan;
  machines: {
    /** The real `spectra-query` state machine, with the real handlers. */
    spectra: string;
    /** Polling baselines by their fixed Wait in seconds. */
    fixedWait: Map<number, string>;
    singleSession: string;
    noReuse: string;
  };
  log: (line: string) => void;
}

export const fixedWaitVariant = (seconds: number) => `fixed${seconds}s`;

/** Rotates a list by `offset`, so that no variant always runs first in a repetition. */
export function rotate<T>(items: readonly T[], offset: number): T[] {
  if (items.length === 0) return [];
  const start = offset % items.length;
  return [...items.slice(start), ...items.slice(0, start)];
}

/**
 * Maps with at most `limit` calls in flight. (p-limit is in node_modules only as another package's
 * dependency; the project does not declare it, so it could vanish with an update.)
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export const ms = (value: number) => `${Math.round(value)} ms`;
