import { notEmulated, syntaxError } from './errors.ts';
import type { Rewriter } from './rewriter.ts';

/**
 * Rewrites of function calls and bare words whose Redshift spelling, meaning or default column
 * name PostgreSQL does not share. Functions PostgreSQL simply lacks (CHARINDEX, STRTOL,
 * ADD_MONTHS, ...) need no rewrite: `redshift-shims.sql` defines them under their own names.
 *
 * A call is sent to a function of the `spectra` schema when PostgreSQL has a function of that name
 * with another meaning (EXTRACT, DATE_PART, DATE_TRUNC, PERCENTILE_CONT) or when the function's
 * name must be Redshift's default column name: PostgreSQL names an unaliased call's column after
 * the function, so `spectra.date_add(...)` gives the column `date_add`, as Redshift's DATEADD does.
 */

interface Rewritten {
  text: string;
  next: number;
}

/** Redshift's catalog views, defined in the `spectra` schema by `redshift-shims.sql`. */
export const CATALOG_VIEWS = new Set([
  'pg_table_def',
  'svv_table_info',
  'svv_columns',
  'svv_tables',
  'stv_sessions',
]);

/**
 * Redshift functions with no local equivalent: a call fails saying so, rather than as a function
 * that "does not exist" (which reads as a typo) or, where PostgreSQL has a namesake, with another
 * answer.
 */
const NOT_EMULATED_FUNCTIONS = new Set([
  'fnv_hash',
  'farmfingerprint64',
  'from_hex',
  'to_varbyte',
  'from_varbyte',
  'getbit',
  'sha2',
  'func_sha1',
  'text_to_int_alt',
  'text_to_numeric_alt',
  'slice_num',
  'change_query_priority',
  'change_session_priority',
  'change_user_priority',
  'explain_model',
  'default_iam_role',
  'reboot_cluster',
  'pg_timezone_names',
  'pg_timezone_abbrevs',
]);

/** The bare date parts of DATE_PART, DATEADD, ...; `'part'` strings are taken as they are. */
function datePartText(rewriter: Rewriter, [from, to]: [number, number]): string {
  const token = rewriter.token(from);
  if (to === from + 1 && token?.kind === 'word') return `'${token.lower}'`;
  return rewriter.emit(from, to);
}

/** `name(args)` with the arguments translated and the name replaced. */
function renamed(rewriter: Rewriter, index: number, name: string): Rewritten {
  const open = index + 1;
  const close = rewriter.match[open] ?? open;
  return {
    text: `${name}(${rewriter.emit(open + 1, close)}${rewriter.gapBefore(close)})`,
    next: close + 1,
  };
}

/** The clause `WITHIN GROUP (ORDER BY ...)` right after the call closing at `close`, if any. */
function withinGroup(
  rewriter: Rewriter,
  close: number,
): { order: string; next: number } | undefined {
  if (!rewriter.isWord(close + 1, 'within') || !rewriter.isWord(close + 2, 'group'))
    return undefined;
  const open = close + 3;
  const end = rewriter.match[open] ?? -1;
  if (!rewriter.isOp(open, '(') || end < 0) throw syntaxError('WITHIN');
  return { order: rewriter.emit(open + 1, end), next: end + 1 };
}

function callRewrite(rewriter: Rewriter, index: number, name: string): Rewritten | undefined {
  const open = index + 1;
  const close = rewriter.match[open] ?? -1;
  if (close < 0) return undefined;
  const args = rewriter.items(open);
  const arg = (n: number) => {
    const range = args[n];
    return range ? rewriter.emit(range[0], range[1]) : '';
  };
  if (NOT_EMULATED_FUNCTIONS.has(name)) throw notEmulated(`The function ${name.toUpperCase()}`);
  switch (name) {
    case 'convert': {
      // CONVERT(type, expression); PostgreSQL's convert(bytes, from, to) has three arguments.
      if (args.length !== 2) return undefined;
      const [type, value] = args as [[number, number], [number, number]];
      const typeText = rewriter.text(type[0], type[1]);
      return {
        text: `CAST(${rewriter.emit(value[0], value[1])} AS ${/^datetime$/i.test(typeText) ? 'timestamp' : typeText})`,
        next: close + 1,
      };
    }
    case 'nvl':
      // Any number of arguments, and Redshift's column name: `coalesce`.
      return renamed(rewriter, index, 'coalesce');
    case 'nvl2':
      if (args.length !== 3) return undefined;
      return {
        text: `CASE WHEN (${arg(0)}) IS NOT NULL THEN ${arg(1)} ELSE ${arg(2)} END`,
        next: close + 1,
      };
    case 'decode': {
      // PostgreSQL's decode(text, format) has two arguments; Redshift's DECODE at least three.
      if (args.length < 3) return undefined;
      const subject = arg(0);
      let text = 'CASE';
      let n = 1;
      for (; n + 1 < args.length; n += 2)
        text += ` WHEN (${subject}) IS NOT DISTINCT FROM (${arg(n)}) THEN ${arg(n + 1)}`;
      if (n < args.length) text += ` ELSE ${arg(n)}`;
      return { text: `${text} END`, next: close + 1 };
    }
    case 'dateadd':
    case 'date_add':
    case 'datediff':
    case 'date_diff':
    case 'date_part':
    case 'date_trunc': {
      if (args.length < 2) return undefined;
      const target = {
        dateadd: 'date_add',
        date_add: 'date_add',
        datediff: 'date_diff',
        date_diff: 'date_diff',
        date_part: 'pgdate_part',
        date_trunc: 'date_trunc',
      }[name];
      const rest = args
        .slice(1)
        .map(([from, to]) => rewriter.emit(from, to))
        .join(', ');
      return {
        text: `spectra.${target}(${datePartText(rewriter, args[0] as [number, number])}, ${rest})`,
        next: close + 1,
      };
    }
    case 'extract': {
      // EXTRACT(part FROM source): an integer, as Redshift's (PostgreSQL 14+ gives numeric).
      const fromWord = rewriter.findTop(open + 1, close, (i) => rewriter.isWord(i, 'from'));
      if (fromWord < 0) return undefined;
      const part = datePartText(rewriter, [open + 1, fromWord]);
      return {
        text: `spectra.date_part(${part}, ${rewriter.emit(fromWord + 1, close)})`,
        next: close + 1,
      };
    }
    case 'convert_timezone':
    case 'current_database':
    case 'version':
    case 'json_extract_path_text':
    case 'regexp_count':
    case 'regexp_instr':
    case 'regexp_substr':
    case 'regexp_replace':
      return renamed(rewriter, index, `spectra.${name}`);
    case 'json_serialize':
      return renamed(rewriter, index, 'spectra."json_serialize"');
    case 'listagg': {
      const group = withinGroup(rewriter, close);
      if (!group) return undefined;
      if (rewriter.isWord(group.next, 'over'))
        throw notEmulated('LISTAGG ... WITHIN GROUP with OVER');
      return {
        text: `listagg(${rewriter.emit(open + 1, close)} ${group.order})`,
        next: group.next,
      };
    }
    case 'median': {
      if (args.length !== 1) return undefined;
      if (rewriter.isWord(close + 1, 'over')) throw notEmulated('MEDIAN as a window function');
      return {
        text: `spectra.median(0.5) WITHIN GROUP (ORDER BY ${arg(0)})`,
        next: close + 1,
      };
    }
    case 'percentile_cont':
    case 'percentile_disc': {
      const group = withinGroup(rewriter, close);
      if (!group) return undefined;
      if (rewriter.isWord(group.next, 'over'))
        throw notEmulated(`${name.toUpperCase()} as a window function`);
      const schema = name === 'percentile_cont' ? 'spectra.' : '';
      return {
        text: `${schema}${name}(${rewriter.emit(open + 1, close)}) WITHIN GROUP (${group.order})`,
        next: group.next,
      };
    }
    case 'ratio_to_report': {
      if (args.length !== 1 || !rewriter.isWord(close + 1, 'over')) return undefined;
      const windowOpen = close + 2;
      const windowClose = rewriter.match[windowOpen] ?? -1;
      if (windowClose < 0) return undefined;
      const window = rewriter.emit(windowOpen + 1, windowClose);
      return {
        text: `spectra.ratio_to_report(${arg(0)}, pg_catalog.sum(${arg(0)}) OVER (${window}))`,
        next: windowClose + 1,
      };
    }
    default:
      return undefined;
  }
}

/** The rule for the word at `index`, if Redshift and PostgreSQL read it differently. */
export function functionRewrite(
  rewriter: Rewriter,
  index: number,
  to: number,
): Rewritten | undefined {
  const token = rewriter.token(index);
  if (!token) return undefined;
  const name = token.lower;
  const called = rewriter.isOp(index + 1, '(') && index + 1 < to;
  if (called) {
    if (rewriter.isOp(index - 1, '.')) return undefined;
    return callRewrite(rewriter, index, name);
  }
  if (name === 'pg_catalog' && rewriter.isOp(index + 1, '.')) {
    const view = rewriter.token(index + 2);
    if (view?.kind === 'word' && CATALOG_VIEWS.has(view.lower))
      return { text: `spectra.${view.lower}`, next: index + 3 };
    return undefined;
  }
  if (rewriter.isOp(index - 1, '.') || rewriter.isOp(index + 1, '.')) return undefined;
  // VARBYTE values print as hexadecimal on Redshift, as `\x...` on PostgreSQL.
  const isCastType = rewriter.isOp(index - 1, '::') || rewriter.isWord(index - 1, 'as');
  if ((name === 'varbyte' || name === 'varbinary') && isCastType)
    throw notEmulated('The VARBYTE type');
  // DATETIME is Redshift's other name for TIMESTAMP.
  if (name === 'datetime' && isCastType) return { text: 'timestamp', next: index + 1 };
  // Bare SYSDATE: the transaction's start; Redshift's column name for it is `timestamp`.
  if (name === 'sysdate') return { text: 'spectra."timestamp"()', next: index + 1 };
  if (CATALOG_VIEWS.has(name)) return { text: `spectra.${name}`, next: index + 1 };
  // APPROXIMATE COUNT(DISTINCT ...) and APPROXIMATE PERCENTILE_DISC: the exact answer is within
  // any error bound.
  if (name === 'approximate' && rewriter.isWord(index + 1, 'count', 'percentile_disc')) {
    return { text: '', next: index + 1 };
  }
  return undefined;
}
