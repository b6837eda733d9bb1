import type { ResultManifest } from '../../functions/common/result-store.ts';

/** When a result written at the unit tests' clock expires, as the results bucket's lifecycle says. */
export const RESULT_EXPIRES_AT = '2026-12-06T00:00:00.000Z';

/**
 * A results manifest of statement st-1 as FetchResults writes one, with what `fields` gives: the
 * tests that read a written result build their input with it, the tests that write one their
 * expectation.
 */
export function resultManifest(
  fields: Pick<
    ResultManifest,
    'columns' | 'rows' | 'bytes' | 'uncompressedBytes' | 'data' | 'createdAt'
  > &
    Partial<ResultManifest>,
): ResultManifest {
  return {
    format: 'JSONL_GZIP',
    statementId: 'st-1',
    parts: [],
    expiresAt: RESULT_EXPIRES_AT,
    ...fields,
  };
}
