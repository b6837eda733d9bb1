import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { BenchResults } from '../../bench/model.ts';
import { renderMarkdown } from '../../bench/report.ts';

/**
 * The report's header says which parts were measured again with `--only`: their figures come from
 * a later run than the header's date, and a reader comparing sections must know it.
 */

const committed = async (): Promise<BenchResults> =>
  JSON.parse(
    await readFile(new URL('../../bench/results/latest.json', import.meta.url), 'utf8'),
  ) as BenchResults;

describe('Function: renderMarkdown, the header', () => {
  it('says nothing was measured again when no part was rerun', async () => {
    // Prepare
    const results = await committed();
    const meta = { ...results.meta };
    delete meta.poolRerunAt;
    delete meta.resultsRerunAt;
    delete meta.bundlesRerunAt;

    // Act
    const markdown = renderMarkdown({ ...results, meta });

    // Assess
    expect(markdown).toContain('in one run: `npm run bench` reruns it.');
    expect(markdown).not.toContain('Measured again since');
  });

  it('names each part rerun with --only and when', async () => {
    // Prepare
    const results = await committed();
    const meta = {
      ...results.meta,
      poolRerunAt: '2026-12-01T18:50:41.082Z',
      bundlesRerunAt: '2026-12-01T18:45:19.732Z',
    };
    delete meta.resultsRerunAt;

    // Act
    const markdown = renderMarkdown({ ...results, meta });

    // Assess
    expect(markdown).toContain(
      'Measured again since, each part in a run of its own with its baselines: the pool (sections 4 and 5, `--only pool`) at 2026-12-01T18:50:41.082Z; the packaging (`--only bundles`) at 2026-12-01T18:45:19.732Z.',
    );
    expect(markdown).not.toContain('the large results (`--only results`)');
  });
});
