import { loadModule, parseSync, scanSync } from 'libpg-query';

/**
 * A statement as PostgreSQL's own lexer sees it (libpg-query's `scanSync`, the scanner of the
 * PostgreSQL 18 grammar compiled to WASM): where each string, quoted identifier, dollar quote,
 * comment, parameter and word begins and ends. The translator works on these tokens, so text
 * inside literals and comments is never rewritten.
 */

export type TokenKind = 'word' | 'quoted' | 'string' | 'number' | 'param' | 'op';

export interface Token {
  kind: TokenKind;
  /** Offsets into the statement's JavaScript string (not bytes). */
  start: number;
  end: number;
  text: string;
  /** Lower-cased text of a word; the text itself for anything else. */
  lower: string;
}

let loaded: Promise<void> | undefined;

/** Loads the WASM module once per process; every other function here needs it loaded. */
export function loadSqlScanner(): Promise<void> {
  loaded ??= loadModule();
  return loaded;
}

const STRING_TOKENS = new Set(['SCONST', 'USCONST', 'BCONST', 'XCONST']);
const NUMBER_TOKENS = new Set(['ICONST', 'FCONST']);
const COMMENT_TOKENS = new Set(['C_COMMENT', 'SQL_COMMENT']);

/** Maps the scanner's UTF-8 byte offsets to string indices (they differ past any non-ASCII). */
function byteToIndex(sql: string): (byte: number) => number {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the ASCII range, control characters included
  if (/^[\u0000-\u007f]*$/.test(sql)) return (byte) => byte;
  const indexOfByte: number[] = [];
  let index = 0;
  for (const char of sql) {
    const bytes = Buffer.byteLength(char, 'utf8');
    for (let b = 0; b < bytes; b++) indexOfByte.push(index);
    index += char.length;
  }
  indexOfByte.push(index);
  return (byte) => indexOfByte[byte] ?? sql.length;
}

/**
 * The statement's tokens, comments left out (they stay in the text between tokens).
 *
 * @throws whatever the scanner throws for text it cannot scan (an unterminated literal).
 */
export function scan(sql: string): Token[] {
  const toIndex = byteToIndex(sql);
  const tokens: Token[] = [];
  for (const raw of scanSync(sql).tokens) {
    if (COMMENT_TOKENS.has(raw.tokenName)) continue;
    const start = toIndex(raw.start);
    const end = toIndex(raw.end);
    const text = sql.slice(start, end);
    let kind: TokenKind = 'op';
    if (raw.tokenName === 'IDENT')
      kind = text.startsWith('"') || /^[uU]&"/.test(text) ? 'quoted' : 'word';
    else if (raw.keywordKind > 0) kind = 'word';
    else if (STRING_TOKENS.has(raw.tokenName)) kind = 'string';
    else if (NUMBER_TOKENS.has(raw.tokenName)) kind = 'number';
    else if (raw.tokenName === 'PARAM') kind = 'param';
    tokens.push({ kind, start, end, text, lower: kind === 'word' ? text.toLowerCase() : text });
  }
  return tokens;
}

/** PostgreSQL's parse tree of a statement (libpg-query's `parseSync`), or undefined when it does not parse. */
export function parseTree(sql: string): unknown {
  try {
    return parseSync(sql);
  } catch {
    return undefined;
  }
}

/** For each `(` and `[` the index of its closing token and the other way round; -1 when unmatched. */
export function matchBrackets(tokens: Token[]): number[] {
  const match = new Array<number>(tokens.length).fill(-1);
  const open: number[] = [];
  tokens.forEach((token, index) => {
    if (token.text === '(' || token.text === '[') open.push(index);
    else if (token.text === ')' || token.text === ']') {
      const opener = open.pop();
      if (opener === undefined) return;
      match[opener] = index;
      match[index] = opener;
    }
  });
  return match;
}
