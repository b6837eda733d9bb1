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
