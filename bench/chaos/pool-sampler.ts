import { setTimeout as sleep } from 'node:timers/promises';
import type { StackApi } from './stack-api.ts';

/**
 * Reads the sessions table over and over until stopped, and keeps the largest pool and the most
 * sessions of every pool together that any read found: the caps must hold at every instant, not
 * only once the run is over.
 */
export function samplePools(api: StackApi) {
  const seen = { samples: 0, largestPool: 0, largestPoolId: '', largestTotal: 0 };
  let running = true;
  const loop = (async () => {
    while (running) {
      const records = await api.sessionRecords().catch(() => undefined);
      if (records) {
        seen.samples++;
        const sizes = new Map<string, number>();
        for (const record of records)
          sizes.set(record.pool_id, (sizes.get(record.pool_id) ?? 0) + 1);
        for (const [poolId, size] of sizes)
          if (size > seen.largestPool)
            Object.assign(seen, { largestPool: size, largestPoolId: poolId });
        seen.largestTotal = Math.max(seen.largestTotal, records.length);
      }
      await sleep(50);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return seen;
    },
  };
}
