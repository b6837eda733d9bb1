/** What every hold has: the calls it keeps, each by the function that lets it go on. */
interface Keeping {
  waiting: Set<() => void>;
}

/**
 * Calls kept waiting until a test lets them go on, one hold per key: the holds of the local
 * stack's controls, on the calls of an AWS target (faults.ts) and on the statements whose SQL
 * contains a text (redshift-data/controls.ts). `T` is what decides which calls a hold keeps.
 */
export class Holds<T extends object> {
  private readonly holds = new Map<string, T & Keeping>();

  /** The hold of `key`, if one is on. */
  get(key: string): (T & Keeping) | undefined {
    return this.holds.get(key);
  }

  /** Every hold that is on, with its key. */
  entries(): IterableIterator<[string, T & Keeping]> {
    return this.holds.entries();
  }

  /** Starts a hold of `key` (replacing the one on, whose calls then wait for nothing). */
  start(key: string, state: T): void {
    this.holds.set(key, { ...state, waiting: new Set() });
  }

  /**
   * Keeps a call on `hold` until the hold is released. `early`, if given, receives the function
   * that lets this one call go on before then (a statement stopped while it is held).
   */
  keep(hold: Keeping, early?: (letGo: () => void) => void): Promise<void> {
    return new Promise<void>((resume) => {
      const letGo = () => {
        hold.waiting.delete(letGo);
        resume();
      };
      hold.waiting.add(letGo);
      early?.(letGo);
    });
  }

  /** Lets the calls the hold of `key` keeps go on and ends the hold; returns how many it kept. */
  release(key: string): number {
    const hold = this.holds.get(key);
    if (!hold) return 0;
    this.holds.delete(key);
    const kept = [...hold.waiting];
    for (const resume of kept) resume();
    return kept.length;
  }

  releaseAll(): void {
    for (const key of [...this.holds.keys()]) this.release(key);
  }

  /** How many calls each hold keeps now; holds that keep none are left out. */
  keptPerKey(): Record<string, number> {
    const kept: Record<string, number> = {};
    for (const [key, hold] of this.holds) if (hold.waiting.size > 0) kept[key] = hold.waiting.size;
    return kept;
  }
}
