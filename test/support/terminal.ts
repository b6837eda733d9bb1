/**
 * Where a terminal puts the text of a line: the column each character starts at. The widths of
 * the characters the tests use are written out here from Unicode's East Asian Width property (W
 * and F take two columns), emoji presentation (two) and grapheme clusters (a base letter with a
 * combining mark takes one), rather than computed by the library under test. Any other character
 * outside printable ASCII is refused, so a test cannot lean on a guess.
 */

const TWO_COLUMNS = new Set([
  '東',
  '京',
  '大',
  '阪',
  'こ',
  'ん',
  'に',
  'ち',
  'は',
  '売',
  '上',
  'Ａ',
  '🎉',
  '👩‍💻',
  '🇯🇵',
]);
const ONE_COLUMN_NON_ASCII = new Set(['e\u0308', 'é', '…']);

const graphemes = new Intl.Segmenter('en', { granularity: 'grapheme' });

function widthOf(grapheme: string): number {
  if (TWO_COLUMNS.has(grapheme)) return 2;
  if (/^[\x20-\x7e]$/.test(grapheme) || ONE_COLUMN_NON_ASCII.has(grapheme)) return 1;
  throw new Error(
    `No width known for ${JSON.stringify(grapheme)}; add it to test/support/terminal.ts`,
  );
}

/** The terminal column (from 0) at which the character at `index` of `line` is drawn. */
export function columnAt(line: string, index: number): number {
  let column = 0;
  for (const { segment, index: at } of graphemes.segment(line)) {
    if (at >= index) break;
    column += widthOf(segment);
  }
  return column;
}

/** The columns `line` fills. */
export function lineWidth(line: string): number {
  return columnAt(line, line.length);
}

/**
 * The start and end columns of `cells` in `line`, found in order from the left (each cell is
 * looked for after the previous one).
 */
export function cellColumns(
  line: string,
  cells: readonly string[],
): { start: number; end: number }[] {
  let from = 0;
  return cells.map((cell) => {
    const index = line.indexOf(cell, from);
    if (index < 0) throw new Error(`${JSON.stringify(cell)} is not in ${JSON.stringify(line)}`);
    from = index + cell.length;
    return { start: columnAt(line, index), end: columnAt(line, from) };
  });
}

/**
 * Values a terminal would act on instead of showing, as a query can return them, and how a table
 * must show each: SGR colours, an OSC 8 link, BEL, C1 CSI/OSC/ST, DEL, a carriage return that
 * would overwrite the line, and a right-to-left override.
 */
export const TERMINAL_CONTROLS = {
  sgr: { value: '\x1b[31mred\x1b[0m', shown: '\\x1b[31mred\\x1b[0m' },
  osc8: {
    value: '\x1b]8;;https://example.com/\x07click\x1b]8;;\x07',
    shown: '\\x1b]8;;https://example.com/\\x07click\\x1b]8;;\\x07',
  },
  bel: { value: 'ding\x07', shown: 'ding\\x07' },
  c1: { value: '\u009b2J\u009d0;title\u009c', shown: '\\x9b2J\\x9d0;title\\x9c' },
  del: { value: 'rub\x7fout', shown: 'rub\\x7fout' },
  overwrite: { value: 'safe\rEVIL', shown: 'safe\\rEVIL' },
  bidi: { value: 'abc\u202edef', shown: 'abc\\u202edef' },
};
