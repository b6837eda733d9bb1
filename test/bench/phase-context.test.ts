import { describe, expect, it } from 'vitest';
import { mapLimit, rotate } from '../../bench/phases/context.ts';

/** The phases' helpers: rotating which variant runs first, and a bounded number of calls in flight. */

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
