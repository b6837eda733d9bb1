import { notEmulated, syntaxError } from './errors.ts';
import type { Rewriter } from './rewriter.ts';

/**
 * CREATE TABLE and CREATE TABLE AS with Redshift's attributes. The physical ones (DISTSTYLE,
 * DISTKEY, SORTKEY, ENCODE, BACKUP) change no result, so they are taken out of the statement and
 * recorded for the catalog views (PG_TABLE_DEF, SVV_TABLE_INFO) by a follow-up statement.
 * Column types and defaults get Redshift's meaning: IDENTITY(seed, step), VARCHAR(MAX) (65535
 * bytes), VARCHAR and TEXT without a length (256), DECIMAL without a precision (18, 0), SUPER
 * (jsonb); VARBYTE is not emulated.
 */

interface TableAttributes {
  diststyle?: string;
  distkey?: string;
  sortkey: string[];
  sortkeyType?: string;
  encodings: Record<string, string>;
}

const CONSTRAINT_WORDS = new Set([
  'constraint',
  'primary',
  'unique',
  'foreign',
  'check',
  'like',
  'exclude',
]);

const sqlString = (text: string) => `'${text.replaceAll("'", "''")}'`;

/** A column name as the catalog stores it: quoted names as written, others lower-cased. */
function columnName(rewriter: Rewriter, index: number): string {
  const token = rewriter.token(index);
  if (!token) return '';
  return token.kind === 'quoted' ? token.text.slice(1, -1).replaceAll('""', '"') : token.lower;
}

/** The column type at `index` in Redshift's meaning, and the index after it. */
function columnType(rewriter: Rewriter, index: number): { text: string; next: number } | undefined {
  const first = rewriter.token(index);
  if (first?.kind !== 'word') return undefined;
  let name = first.lower;
  let next = index + 1;
  if ((name === 'character' || name === 'char') && rewriter.isWord(next, 'varying')) {
    name = 'varchar';
    next++;
  }
  const open = rewriter.isOp(next, '(') ? next : -1;
  const close = open >= 0 ? (rewriter.match[open] ?? -1) : -1;
  const argsText =
    close > open
      ? rewriter
          .text(open + 1, close)
          .trim()
          .toLowerCase()
      : undefined;
  const after = close > open ? close + 1 : next;
  switch (name) {
    case 'varchar':
    case 'nvarchar':
    case 'text':
      if (argsText === 'max') return { text: 'varchar(65535)', next: after };
      if (argsText === undefined) return { text: 'varchar(256)', next: after };
      return { text: `varchar(${argsText})`, next: after };
    case 'nchar':
    case 'bpchar':
      return {
        text: argsText ? `char(${argsText})` : name === 'bpchar' ? 'char(256)' : 'char(1)',
        next: after,
      };
    case 'char':
    case 'character':
      if (argsText === 'max') return { text: 'char(4096)', next: after };
      return undefined;
    case 'decimal':
    case 'numeric':
      return argsText === undefined ? { text: 'numeric(18,0)', next: after } : undefined;
    case 'super':
      return { text: 'jsonb', next: after };
    case 'varbyte':
    case 'varbinary':
      // Its values would print as PostgreSQL's bytea, not as Redshift's hexadecimal.
      throw notEmulated('The VARBYTE type');
    default:
      return undefined;
  }
}

/** `IDENTITY(seed, step)`: the column's values are generated, as PostgreSQL's identity. */
function identityClause(rewriter: Rewriter, open: number, kind: 'ALWAYS' | 'BY DEFAULT'): string {
  const items = rewriter.items(open);
  if (items.length !== 2) throw syntaxError('IDENTITY');
  const [seed = '', step = ''] = items.map(([a, b]) => rewriter.text(a, b).trim());
  // PostgreSQL's sequences start at 1 unless told a lower minimum; Redshift's seed may be 0.
  const lowest = Math.min(Number(seed), 1);
  const minimum = Number.isFinite(lowest) && lowest < 1 ? ` MINVALUE ${lowest}` : '';
  return `GENERATED ${kind} AS IDENTITY (START WITH ${seed} INCREMENT BY ${step}${minimum})`;
}

/** One column definition, its attributes recorded in `attributes`. */
function columnDefinition(
  rewriter: Rewriter,
  [from, to]: [number, number],
  attributes: TableAttributes,
): string {
  const name = columnName(rewriter, from);
  let out = rewriter.text(from, from + 1);
  let index = from + 1;
  const type = columnType(rewriter, index);
  if (type) {
    out += `${rewriter.gapBefore(index)}${type.text}`;
    index = type.next;
  }
  let chunkStart = index;
  const flush = (end: number) => {
    if (end > chunkStart)
      out += `${rewriter.gapBefore(chunkStart)}${rewriter.emit(chunkStart, end)}`;
  };
  while (index < to) {
    if (rewriter.isWord(index, 'encode') && rewriter.token(index + 1)?.kind === 'word') {
      flush(index);
      attributes.encodings[name] = rewriter.token(index + 1)?.lower ?? '';
      index += 2;
      chunkStart = index;
    } else if (rewriter.isWord(index, 'distkey')) {
      flush(index);
      attributes.distkey = name;
      index++;
      chunkStart = index;
    } else if (rewriter.isWord(index, 'sortkey')) {
      flush(index);
      attributes.sortkey.push(name);
      index++;
      chunkStart = index;
    } else if (rewriter.isWord(index, 'identity') && rewriter.isOp(index + 1, '(')) {
      const generatedByDefault =
        rewriter.isWord(index - 4, 'generated') &&
        rewriter.isWord(index - 3, 'by') &&
        rewriter.isWord(index - 1, 'as');
      const start = generatedByDefault ? index - 4 : index;
      flush(Math.max(start, chunkStart));
      out += ` ${identityClause(rewriter, index + 1, generatedByDefault ? 'BY DEFAULT' : 'ALWAYS')}`;
      index = (rewriter.match[index + 1] ?? index) + 1;
      chunkStart = index;
    } else if (rewriter.isOp(index, '(')) {
      index = (rewriter.match[index] ?? index) + 1;
    } else {
      index++;
    }
  }
  flush(to);
  return out;
}

/** Consumes the table attributes from `index` on; returns the index after them. */
function tableAttributes(rewriter: Rewriter, index: number, attributes: TableAttributes): number {
  for (;;) {
    if (rewriter.isWord(index, 'diststyle') && rewriter.token(index + 1)?.kind === 'word') {
      attributes.diststyle = rewriter.token(index + 1)?.lower;
      index += 2;
    } else if (rewriter.isWord(index, 'distkey') && rewriter.isOp(index + 1, '(')) {
      attributes.distkey = columnName(rewriter, index + 2);
      index = (rewriter.match[index + 1] ?? index) + 1;
    } else if (
      rewriter.isWord(index, 'compound', 'interleaved') &&
      rewriter.isWord(index + 1, 'sortkey')
    ) {
      attributes.sortkeyType = rewriter.token(index)?.lower;
      index++;
    } else if (rewriter.isWord(index, 'sortkey') && rewriter.isOp(index + 1, '(')) {
      attributes.sortkey = rewriter.items(index + 1).map(([a]) => columnName(rewriter, a));
      index = (rewriter.match[index + 1] ?? index) + 1;
    } else if (rewriter.isWord(index, 'sortkey', 'encode') && rewriter.isWord(index + 1, 'auto')) {
      index += 2;
    } else if (rewriter.isWord(index, 'backup') && rewriter.isWord(index + 1, 'yes', 'no')) {
      index += 2;
    } else {
      return index;
    }
  }
}

/** The statement that records the attributes for the catalog views, or none when there are none. */
function recordAttributes(tableName: string, attributes: TableAttributes): string | undefined {
  const { diststyle, distkey, sortkey, sortkeyType, encodings } = attributes;
  if (!diststyle && !distkey && sortkey.length === 0 && Object.keys(encodings).length === 0)
    return undefined;
  const array = `ARRAY[${sortkey.map(sqlString).join(', ')}]::text[]`;
  return (
    `SELECT spectra.record_table_attributes(${sqlString(tableName)}, ` +
    `${diststyle ? sqlString(diststyle) : 'NULL'}, ${distkey ? sqlString(distkey) : 'NULL'}, ` +
    `${array}, ${sortkeyType ? sqlString(sortkeyType) : 'NULL'}, ${sqlString(JSON.stringify(encodings))}::jsonb)`
  );
}

export function createTableRewrite(rewriter: Rewriter, count: number): string | undefined {
  if (!rewriter.isWord(0, 'create')) return undefined;
  let index = 1;
  if (rewriter.isWord(index, 'local')) index++;
  if (rewriter.isWord(index, 'temp', 'temporary')) index++;
  if (!rewriter.isWord(index, 'table')) return undefined;
  index++;
  if (
    rewriter.isWord(index, 'if') &&
    rewriter.isWord(index + 1, 'not') &&
    rewriter.isWord(index + 2, 'exists')
  )
    index += 3;
  const nameStart = index;
  index++;
  while (rewriter.isOp(index, '.')) index += 2;
  const tableName = rewriter.text(nameStart, index);
  const attributes: TableAttributes = { sortkey: [], encodings: {} };
  let out = rewriter.text(0, index);
  if (rewriter.isOp(index, '(')) {
    const open = index;
    const close = rewriter.match[open] ?? -1;
    if (close < 0) return undefined;
    const elements = rewriter.items(open).map((range) => {
      const word = rewriter.token(range[0]);
      const definition =
        word?.kind === 'word' && CONSTRAINT_WORDS.has(word.lower)
          ? rewriter.emit(range[0], range[1])
          : columnDefinition(rewriter, range, attributes);
      return `${rewriter.gapBefore(range[0])}${definition}`;
    });
    out += `${rewriter.gapBefore(open)}(${elements.join(',')}${rewriter.gapBefore(close)})`;
    index = close + 1;
  }
  const afterAttributes = tableAttributes(rewriter, index, attributes);
  if (rewriter.isWord(afterAttributes, 'as')) {
    out += ` AS${rewriter.gapBefore(afterAttributes + 1)}${rewriter.emitQuery(afterAttributes + 1, count, true)}`;
  } else if (afterAttributes < count) {
    out += `${rewriter.gapBefore(afterAttributes)}${rewriter.emit(afterAttributes, count)}`;
  }
  const followUp = recordAttributes(tableName, attributes);
  if (followUp) rewriter.followUps.push(followUp);
  return out;
}
