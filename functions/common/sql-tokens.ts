/**
 * Lexes SQL as Redshift reads it, far enough to find what matters without parsing: strings,
 * quoted identifiers, dollar quotes, nested comments, `::` casts, the Data API's `:name`
 * placeholders and the words between them. Every character belongs to exactly one token, so a
 * caller can rewrite a statement token by token (sql-statements.ts splits and classifies on
 * these tokens; the local emulator binds placeholders with them).
 *
 * Hand-written, because none of the well-kept SQL libraries fits:
 * - the parsers (node-sql-parser's Redshift grammar, pgsql-ast-parser, sql-parser-cst) refuse much
 *   valid Redshift SQL (`CREATE TEMP TABLE ... DISTSTYLE`, `CREATE TABLE #t`, `START TRANSACTION`,
 *   `END`, `SET SESSION AUTHORIZATION`, `UNLOAD`), and a statement that fails to parse cannot be
 *   classified;
 * - PostgreSQL's own scanner (libpg-query, @pgsql/parser) is a 1.7 MB WebAssembly module per
 *   function bundle, loads asynchronously, and lexes as PostgreSQL 17 does: it fails on the
 *   backslash escapes Redshift takes in plain strings (`'it\'s'`);
 * - the splitters (dbgate-query-splitter) split, but give no tokens to find placeholders or
 *   keywords in.
 *
 * Two lexings: Redshift (PostgreSQL 8.0) takes backslash escapes in `'...'` strings, PostgreSQL 15+
 * (the local emulator's engines) does not, so `'a\'; begin; --'` is one statement to one and three
 * to the other.
 */

export type TokenKind =
  /** A keyword or identifier, `#name` (Redshift's temporary tables) included. */
  | 'word'
  | 'quoted-identifier'
  | 'string'
  | 'dollar-string'
  | 'comment'
  | 'whitespace'
  | 'number'
  /** The Data API's `:name`; `text` is the name without the colon. */
  | 'placeholder'
  /** `$1`: a positional parameter, which the Data API does not use. */
  | 'positional'
  /** Anything else: operators, `(`, `)`, `,`, `;`, `::`. */
  | 'symbol';

export interface Token {
  kind: TokenKind;
  /** The token's text as written (a placeholder's without its colon). */
  text: string;
  start: number;
  end: number;
}

export interface LexOptions {
  /**
   * Backslash escapes in plain `'...'` strings, as Redshift reads them. Off: the SQL standard's
   * strings, as PostgreSQL 9.1+ reads them (`E'...'` takes escapes either way).
   */
  backslashEscapes: boolean;
}

/** How Redshift lexes; what the functions split statements by. */
export const REDSHIFT_LEXING: LexOptions = { backslashEscapes: true };
/** How the local emulator's engines (PostgreSQL 15+, PGlite) lex. */
export const POSTGRESQL_LEXING: LexOptions = { backslashEscapes: false };

const WORD_START = /[A-Za-z_\u0080-\uffff#]/;
const WORD_CHAR = /[A-Za-z0-9_$\u0080-\uffff#]/;
const DIGIT = /[0-9]/;
const SPACE = /\s/;

function endOfQuoted(sql: string, start: number, quote: string, backslashes: boolean): number {
  let index = start + 1;
  while (index < sql.length) {
    const char = sql[index];
    if (backslashes && char === '\\') index += 2;
    else if (char === quote) {
      if (sql[index + 1] === quote) index += 2;
      else return index + 1;
    } else index++;
  }
  return sql.length;
}

/** PostgreSQL's block comments nest. */
function endOfBlockComment(sql: string, start: number): number {
  let depth = 0;
  let index = start;
  while (index < sql.length) {
    if (sql.startsWith('/*', index)) {
      depth++;
      index += 2;
    } else if (sql.startsWith('*/', index)) {
      depth--;
      index += 2;
      if (depth === 0) return index;
    } else index++;
  }
  return sql.length;
}

/** Characters after which `:name` is not a placeholder: an array slice such as `a[1:n]`. */
const NOT_BEFORE_PLACEHOLDER = /[A-Za-z0-9_\])]/;

/** Splits SQL into tokens; every character belongs to exactly one token. */
export function tokenize(sql: string, options: LexOptions = REDSHIFT_LEXING): Token[] {
  const tokens: Token[] = [];
  let index = 0;
  const push = (kind: TokenKind, start: number, end: number, text = sql.slice(start, end)) => {
    tokens.push({ kind, text, start, end });
    index = end;
  };
  while (index < sql.length) {
    const start = index;
    const char = sql[index] as string;
    const next = sql[index + 1] ?? '';
    if (SPACE.test(char)) {
      let end = index + 1;
      while (end < sql.length && SPACE.test(sql[end] as string)) end++;
      push('whitespace', start, end);
    } else if (char === '-' && next === '-') {
      const newline = sql.indexOf('\n', index);
      push('comment', start, newline < 0 ? sql.length : newline);
    } else if (char === '/' && next === '*') {
      push('comment', start, endOfBlockComment(sql, index));
    } else if (char === "'") {
      push('string', start, endOfQuoted(sql, index, "'", options.backslashEscapes));
    } else if ((char === 'e' || char === 'E') && next === "'") {
      push('string', start, endOfQuoted(sql, index + 1, "'", true));
    } else if (char === '"') {
      push('quoted-identifier', start, endOfQuoted(sql, index, '"', false));
    } else if (char === '$') {
      // $tag$ ... $tag$ (the tag may be empty); `$1` is a positional parameter.
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(index, index + 66));
      if (tag) {
        const close = sql.indexOf(tag[0], index + tag[0].length);
        push('dollar-string', start, close < 0 ? sql.length : close + tag[0].length);
      } else {
        let end = index + 1;
        while (end < sql.length && DIGIT.test(sql[end] as string)) end++;
        push(end > index + 1 ? 'positional' : 'symbol', start, end);
      }
    } else if (char === ':' && next === ':') {
      push('symbol', start, index + 2);
    } else if (char === ':' && /[0-9A-Za-z_]/.test(next)) {
      const before = tokens.at(-1);
      const glued = before !== undefined && before.end === start;
      const previousChar = sql[start - 1] ?? '';
      let end = index + 1;
      while (end < sql.length && /[0-9A-Za-z_]/.test(sql[end] as string)) end++;
      if (glued && NOT_BEFORE_PLACEHOLDER.test(previousChar)) push('symbol', start, start + 1);
      else push('placeholder', start, end, sql.slice(start + 1, end));
    } else if (WORD_START.test(char)) {
      let end = index + 1;
      while (end < sql.length && WORD_CHAR.test(sql[end] as string)) end++;
      push('word', start, end);
    } else if (DIGIT.test(char) || (char === '.' && DIGIT.test(next))) {
      let end = index + 1;
      while (end < sql.length && /[0-9.eE]/.test(sql[end] as string)) end++;
      push('number', start, end);
    } else {
      push('symbol', start, index + 1);
    }
  }
  return tokens;
}

/** Tokens in which nothing is substituted or classified: literals, quoted names and comments. */
const NOT_CODE: ReadonlySet<TokenKind> = new Set([
  'string',
  'dollar-string',
  'quoted-identifier',
  'comment',
]);

export const isCode = (token: Token): boolean => !NOT_CODE.has(token.kind);

/**
 * Replaces each `:name` placeholder of SQL (outside literals, comments and casts) by what
 * `replace` returns for its name.
 */
export function mapPlaceholders(
  sql: string,
  replace: (name: string) => string,
  options: LexOptions = POSTGRESQL_LEXING,
): string {
  return tokenize(sql, options)
    .map((token) => (token.kind === 'placeholder' ? replace(token.text) : token.text))
    .join('');
}
