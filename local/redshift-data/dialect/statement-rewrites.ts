import type { Rewriter } from './rewriter.ts';

/**
 * Rewrites of a whole statement that PostgreSQL has no form of: SET, RESET and SHOW of Redshift's
 * own settings, and MERGE ... REMOVE DUPLICATES.
 */

/** SET and SHOW of Redshift's own settings, which PostgreSQL does not know. */
const REDSHIFT_SETTINGS = new Set([
  'query_group',
  'enable_result_cache_for_session',
  'analyze_threshold_percent',
  'auto_analyze',
  'datashare_break_glass_session_var',
  'describe_field_name_in_uppercase',
  'downcase_delimited_identifier',
  'enable_case_sensitive_identifier',
  'json_parse_dedup_attributes',
  'json_parse_truncate_strings',
  'max_concurrency_scaling_clusters',
  'mv_enable_aqmv_for_session',
  'spectrum_query_maxerror',
  'wlm_query_slot_count',
]);

/** `SET query_group TO x` and the like: kept in a placeholder setting of the `redshift.` class. */
export function settingStatement(rewriter: Rewriter, count: number): string | undefined {
  let index = 0;
  if (!rewriter.isWord(index, 'set', 'reset', 'show')) return undefined;
  const verb = rewriter.token(index)?.lower;
  index++;
  if (verb === 'set' && rewriter.isWord(index, 'session', 'local')) index++;
  const name = rewriter.token(index);
  if (name?.kind !== 'word') return undefined;
  if (verb === 'show' && name.lower === 'search_path' && count === 2)
    return `SELECT pg_catalog.replace(pg_catalog.current_setting('search_path'), '"$user"', '$user') AS search_path`;
  if (!REDSHIFT_SETTINGS.has(name.lower)) return undefined;
  const before = rewriter.text(0, index);
  const after =
    index + 1 < count ? `${rewriter.gapBefore(index + 1)}${rewriter.emit(index + 1, count)}` : '';
  if (verb === 'show')
    return `SELECT coalesce(nullif(pg_catalog.current_setting('redshift.${name.lower}', true), ''), 'unset') AS ${name.lower}`;
  return `${before}${rewriter.gapBefore(index)}redshift.${name.lower}${after}`;
}

/** `MERGE INTO t USING s ON cond REMOVE DUPLICATES`: matched rows replaced, the rest inserted. */
export function mergeRemoveDuplicates(rewriter: Rewriter, count: number): string | undefined {
  if (!rewriter.isWord(0, 'merge') || !rewriter.isWord(count - 1, 'duplicates')) return undefined;
  if (!rewriter.isWord(count - 2, 'remove') || !rewriter.isWord(1, 'into')) return undefined;
  const using = rewriter.findTop(2, count, (index) => rewriter.isWord(index, 'using'));
  const on = rewriter.findTop(using + 1, count, (index) => rewriter.isWord(index, 'on'));
  if (using < 0 || on < 0) return undefined;
  const target = rewriter.emit(2, using);
  const source = rewriter.emit(using + 1, on);
  const condition = rewriter.emit(on + 1, count - 2);
  // The target's name without its alias, for the INSERT.
  const targetName = rewriter.text(2, rewriter.isOp(3, '.') ? 5 : 3);
  return `WITH "__spectra_removed" AS (DELETE FROM ${target} USING ${source} WHERE ${condition}) INSERT INTO ${targetName} SELECT * FROM ${source}`;
}
