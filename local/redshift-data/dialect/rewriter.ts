import { notEmulated, syntaxError } from './errors.ts';
import { functionRewrite } from './functions.ts';
import { matchBrackets, type Token } from './tokens.ts';

/**
 * The rewriter the translation rules work with: a statement's tokens, emitted back as text with
 * only the tokens of Redshift's constructs rewritten, and the query-level rules (TOP, QUALIFY,
 * the names Redshift gives unaliased columns) that apply to every SELECT it meets, nested or not.
 */

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
