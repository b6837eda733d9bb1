import { createTableRewrite } from './create-table.ts';
import { functionRewrite } from './functions.ts';
import { matchBrackets, parseTree, scan, type Token } from './tokens.ts';

/**
 * Redshift's SQL, translated statement by statement into PostgreSQL's for the local engines
 * (PGlite, PostgreSQL 15+), with the functions PostgreSQL lacks in `redshift-shims.sql` and the
 * catalog views in `redshift-catalog.sql`.
 *
 * Why it is built this way. The candidates were measured on the 1,394 SQL examples of the
 * Amazon Redshift Database Developer Guide's reference pages and on the Redshift-only constructs
 * (DISTKEY, SORTKEY, ENCODE, IDENTITY(seed, step), VARCHAR(MAX), TOP, QUALIFY, LISTAGG ... WITHIN
 * GROUP, APPROXIMATE, MERGE ... REMOVE DUPLICATES):
 *
 * | parser                          | guide examples parsed | Redshift-only constructs parsed |
 * | ------------------------------- | --------------------- | ------------------------------- |
 * | libpg-query 18 (PostgreSQL's)   | 1186 (96 ms)          | LISTAGG WITHIN GROUP only       |
 * | sql-parser-cst 0.42 (postgres)  | 1129 (812 ms)         | none but PartiQL `[0].x`        |
 * | pgsql-ast-parser 12             | 1045 (1039 ms)        | LISTAGG WITHIN GROUP only       |
 * | node-sql-parser 5.4 (redshift)  | 985 (563 ms)          | none                            |
 *
 * No parser knows Redshift's own syntax, node-sql-parser's "redshift" dialect included, and the
 * ones that print SQL back from a tree reformat it (which moves every position an engine error
 * reports). So the translator uses PostgreSQL's own lexer from libpg-query (the best-kept of them:
 * it is PostgreSQL's grammar compiled to WASM) to split the statement into tokens, and rewrites
 * only the tokens of the Redshift constructs, in place: text outside them, comments, literals and
 * the Data API's placeholders (already `$n` when the translator sees them) stay exactly as the
 * caller wrote them. PostgreSQL's parser then checks the result where Redshift is stricter than
 * PostgreSQL 16+ (a derived table needs an alias).
 *
 * Nothing is changed silently: what cannot be translated fails with {@link TranslationError},
 * worded as Redshift words the error, or saying that the construct is not emulated locally.
 */

/** A statement the translator cannot run locally with Redshift's meaning. */
export class TranslationError extends Error {
  constructor(
    message: string,
    /** PostgreSQL's SQLSTATE for it: 42601 syntax error, 0A000 feature not supported. */
    readonly sqlState: string,
  ) {
    super(message);
    this.name = 'TranslationError';
  }
}

export const notEmulated = (what: string) =>
  new TranslationError(
    `ERROR: ${what} is not emulated locally (Spectra's local stack); run it on Amazon Redshift`,
    '0A000',
  );

export const syntaxError = (near: string) =>
  new TranslationError(`ERROR: syntax error at or near "${near}"`, '42601');

export interface Translation {
  /** The statement for the engine. */
  sql: string;
  /**
   * Statements to run after it, in the same connection, when it succeeded: what the engine keeps
   * in place of Redshift's table attributes (DISTKEY, SORTKEY, ENCODE), for the catalog views.
   */
  followUps: string[];
  /** Columns the translation adds at the end of the result, which the caller must drop (QUALIFY). */
  hiddenColumns: number;
}

/** Internal column and table names the translation introduces. */
export const QUALIFY_COLUMN = '__spectra_qualify';

/**
 * The context rewrite rules get: the tokens, bracket matches, and the emitter that translates a
 * range of tokens (so that a rule's arguments are translated too).
 */
export class Rewriter {
  readonly match: number[];
  readonly followUps: string[] = [];
  hiddenColumns = 0;
  /** Text to add after the token at an index: default column names Redshift gives. */
  private readonly appendAfter = new Map<number, string>();

  constructor(
    readonly sql: string,
    readonly tokens: Token[],
  ) {
    this.match = matchBrackets(tokens);
  }

  token(index: number): Token | undefined {
    return this.tokens[index];
  }

  /** The original text of tokens [from, to), with what lies between them. */
  text(from: number, to: number): string {
    const first = this.tokens[from];
    const last = this.tokens[to - 1];
    if (!first || !last || to <= from) return '';
    return this.sql.slice(first.start, last.end);
  }

  /** What lies between token `index - 1` and token `index` (spaces, comments). */
  gapBefore(index: number): string {
    const previous = this.tokens[index - 1];
    const token = this.tokens[index];
    if (!previous || !token) return '';
    return this.sql.slice(previous.end, token.start);
  }

  isWord(index: number, ...words: string[]): boolean {
    const token = this.tokens[index];
    return token?.kind === 'word' && (words.length === 0 || words.includes(token.lower));
  }

  isOp(index: number, op: string): boolean {
    return this.tokens[index]?.kind === 'op' && this.tokens[index]?.text === op;
  }

  /** The ranges of the comma-separated items between brackets `open` and its match. */
  items(open: number): [number, number][] {
    const close = this.match[open] ?? -1;
    const ranges: [number, number][] = [];
    let start = open + 1;
    for (let index = open + 1; index < close; index++) {
      const token = this.tokens[index] as Token;
      if (token.text === '(' || token.text === '[') {
        index = this.match[index] ?? index;
      } else if (token.kind === 'op' && token.text === ',') {
        ranges.push([start, index]);
        start = index + 1;
      }
    }
    if (close > open + 1) ranges.push([start, close]);
    return ranges;
  }

  /** Index of the first token in [from, to) at bracket depth 0 for which `test` holds, or -1. */
  findTop(from: number, to: number, test: (index: number) => boolean): number {
    for (let index = from; index < to; index++) {
      const token = this.tokens[index] as Token;
      if (token.text === '(' || token.text === '[') {
        index = this.match[index] ?? index;
        continue;
      }
      if (test(index)) return index;
    }
    return -1;
  }

  /** Translates tokens [from, to), keeping the original text between untouched tokens. */
  emit(from: number, to: number, nested = true): string {
    let out = '';
    let index = from;
    while (index < to) {
      if (index > from) out += this.gapBefore(index);
      const rewritten = this.rewriteAt(index, to);
      if (rewritten) {
        out += rewritten.text + (this.appendAfter.get(rewritten.next - 1) ?? '');
        index = rewritten.next;
        continue;
      }
      const token = this.tokens[index] as Token;
      const close = this.match[index] ?? -1;
      // PartiQL navigation into a SUPER value after a subscript, `c.orders[0].key`: jsonb's
      // subscript `['key']`.
      if (
        token.text === '.' &&
        this.isOp(index - 1, ']') &&
        this.token(index + 1)?.kind === 'word'
      ) {
        out += `['${this.token(index + 1)?.lower}']`;
        index += 2;
        continue;
      }
      if (token.text === '(' && close > index && close <= to) {
        out += `(${this.emitQuery(index + 1, close, nested)}${this.gapBefore(close)})${this.appendAfter.get(close) ?? ''}`;
        index = close + 1;
        continue;
      }
      out += token.text + (this.appendAfter.get(index) ?? '');
      index++;
    }
    return out;
  }

  /**
   * Redshift names the column of an unaliased `NULLIF(column, ...)` after the column, where
   * PostgreSQL names it `nullif`.
   */
  private nameSelectItems(listStart: number, listEnd: number): void {
    let start = listStart;
    const items: [number, number][] = [];
    for (let index = listStart; index <= listEnd; index++) {
      if (index === listEnd || this.isOp(index, ',')) {
        items.push([start, index]);
        start = index + 1;
      } else if (this.isOp(index, '(')) index = this.match[index] ?? index;
    }
    for (const [from, to] of items) {
      if (!this.isWord(from, 'nullif') || !this.isOp(from + 1, '(')) continue;
      if ((this.match[from + 1] ?? -1) !== to - 1) continue;
      const first = this.items(from + 1)[0];
      if (!first) continue;
      const [a, b] = first;
      const name = this.token(b - 1);
      if (name?.kind !== 'word' && name?.kind !== 'quoted') continue;
      if (b - a !== 1 && !(b - a === 3 && this.isOp(a + 1, '.'))) continue;
      this.appendAfter.set(to - 1, ` AS ${name.kind === 'quoted' ? name.text : `"${name.lower}"`}`);
    }
  }

  /** A rule for the token at `index`: function calls, bare words, catalog views. */
  private rewriteAt(index: number, to: number): { text: string; next: number } | undefined {
    const token = this.tokens[index] as Token;
    if (token.kind !== 'word') return undefined;
    // `x.name` is a qualified name; only `pg_catalog.` qualifies a name the translator knows.
    if (this.isOp(index - 1, '.') && !this.isWord(index - 2, 'pg_catalog')) return undefined;
    return functionRewrite(this, index, to);
  }

  /**
   * Translates a query level: the whole statement, or the inside of a parenthesised group, where
   * Redshift's TOP and QUALIFY apply.
   */
  emitQuery(from: number, to: number, nested: boolean): string {
    const select = this.findTop(from, to, (index) => this.isWord(index, 'select'));
    if (select < 0) return this.emit(from, to, true);
    const qualify = this.findTop(select, to, (index) => this.isWord(index, 'qualify'));
    let top: { limit: string; from: number; to: number } | undefined;
    let listStart = select + 1;
    if (this.isWord(listStart, 'distinct', 'all')) listStart++;
    if (this.isWord(listStart, 'top') && this.token(listStart + 1)?.kind === 'number') {
      top = { limit: this.token(listStart + 1)?.text ?? '', from: listStart, to: listStart + 2 };
    }
    const listEnd = this.findTop(listStart, to, (index) => this.isWord(index, 'from'));
    this.nameSelectItems(top ? listStart + 2 : listStart, listEnd < 0 ? to : listEnd);
    if (top) {
      const hasLimit = this.findTop(select, to, (index) => this.isWord(index, 'limit', 'fetch'));
      if (hasLimit >= 0) throw syntaxError(this.token(hasLimit)?.text ?? 'LIMIT');
    }
    const skipTop = (a: number, b: number) =>
      top && a <= top.from && top.to <= b
        ? `${this.emit(a, top.from)}${this.gapBefore(top.from)}${this.emit(top.to, b)}`
        : this.emit(a, b);
    if (qualify < 0) {
      const body = skipTop(from, to);
      return top ? `${body} LIMIT ${top.limit}` : body;
    }
    if (nested) throw notEmulated('QUALIFY inside a subquery');
    return this.emitQualify(from, to, select, qualify, top, skipTop);
  }

  /**
   * `SELECT list FROM ... QUALIFY cond [ORDER BY ...] [LIMIT ...]` as a filter over the query
   * with `cond` as an extra column, which the caller drops from the result.
   */
  private emitQualify(
    from: number,
    to: number,
    select: number,
    qualify: number,
    top: { limit: string } | undefined,
    skipTop: (a: number, b: number) => string,
  ): string {
    const end = this.findTop(qualify + 1, to, (index) =>
      this.isWord(index, 'order', 'limit', 'offset', 'fetch', 'union', 'intersect', 'except'),
    );
    const condEnd = end < 0 ? to : end;
    if (end >= 0 && this.isWord(end, 'union', 'intersect', 'except'))
      throw notEmulated('QUALIFY followed by a set operation');
    const fromWord = this.findTop(select + 1, qualify, (index) => this.isWord(index, 'from'));
    if (fromWord < 0) throw syntaxError('QUALIFY');
    const orderEnd =
      end >= 0 && this.isWord(end, 'order')
        ? (() => {
            const limit = this.findTop(end, to, (index) =>
              this.isWord(index, 'limit', 'offset', 'fetch'),
            );
            return limit < 0 ? to : limit;
          })()
        : condEnd;
    const head = skipTop(from, fromWord);
    const rest = this.emit(fromWord, qualify);
    const condition = this.emit(qualify + 1, condEnd);
    const order = orderEnd > condEnd ? ` ${this.emit(condEnd, orderEnd)}` : '';
    const limits = [
      orderEnd < to ? this.emit(orderEnd, to) : '',
      top ? `LIMIT ${top.limit}` : '',
    ].filter(Boolean);
    this.hiddenColumns++;
    return (
      `SELECT * FROM (${head}, (${condition}) AS "${QUALIFY_COLUMN}" ${rest}${order}) AS "__spectra_qualified"` +
      ` WHERE "${QUALIFY_COLUMN}"${limits.length > 0 ? ` ${limits.join(' ')}` : ''}`
    );
  }
}

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
function settingStatement(rewriter: Rewriter, count: number): string | undefined {
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
function mergeRemoveDuplicates(rewriter: Rewriter, count: number): string | undefined {
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

/** The alias a FROM item is known by (a table's name when it has none). */
function fromItemName(item: Record<string, unknown>): string | undefined {
  const range = item.RangeVar as Record<string, unknown> | undefined;
  if (!range) return undefined;
  const alias = range.alias as { aliasname?: string } | undefined;
  return alias?.aliasname ?? (range.relname as string | undefined);
}

/**
 * PartiQL's unnesting, `FROM t AS c, c.array AS o`: PostgreSQL reads `c.array` as a table of
 * schema `c` and would report that it does not exist.
 */
function checkPartiqlUnnesting(select: Record<string, unknown>): void {
  const from = (select.fromClause as Record<string, unknown>[] | undefined) ?? [];
  const names = new Set<string>();
  for (const item of from) {
    const range = item.RangeVar as Record<string, unknown> | undefined;
    if (range?.schemaname && names.has(range.schemaname as string))
      throw notEmulated('PartiQL unnesting of a SUPER array in FROM (FROM t AS c, c.array)');
    const name = fromItemName(item);
    if (name) names.add(name);
  }
}

/** Redshift refuses a derived table without an alias; PostgreSQL 16+ takes it. */
function checkDerivedTableAliases(tree: unknown): void {
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) visit(item);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const record = node as Record<string, unknown>;
    if (record.SelectStmt) checkPartiqlUnnesting(record.SelectStmt as Record<string, unknown>);
    const subselect = record.RangeSubselect as Record<string, unknown> | undefined;
    if (subselect && !subselect.alias && !subselect.lateral)
      throw new TranslationError('ERROR: subquery in FROM must have an alias', '42601');
    for (const value of Object.values(record)) visit(value);
  };
  visit(tree);
}

/**
 * Translates one statement (its `:name` placeholders already bound as `$n`).
 *
 * @throws {TranslationError} for what has no local equivalent.
 */
export function translateStatement(sql: string): Translation {
  let tokens: Token[];
  try {
    tokens = scan(sql);
  } catch {
    // Text the lexer cannot read (an unterminated literal): the engine reports it as Redshift does.
    return { sql, followUps: [], hiddenColumns: 0 };
  }
  let count = tokens.length;
  while (count > 0 && tokens[count - 1]?.text === ';') count--;
  if (count === 0) return { sql, followUps: [], hiddenColumns: 0 };
  const rewriter = new Rewriter(sql, tokens);
  const prefix = sql.slice(0, tokens[0]?.start ?? 0);
  const translated =
    settingStatement(rewriter, count) ??
    mergeRemoveDuplicates(rewriter, count) ??
    createTableRewrite(rewriter, count) ??
    rewriter.emitQuery(0, count, false);
  const text = `${prefix}${translated}`;
  const tree = parseTree(text);
  if (tree) checkDerivedTableAliases(tree);
  return { sql: text, followUps: rewriter.followUps, hiddenColumns: rewriter.hiddenColumns };
}
