import type { QueryResult } from '#common/execution-output';
import type { StateVisit } from './history.ts';
import { failureOf } from './records.ts';
import {
  displayWidth,
  escapeControls,
  escapeMessage,
  padEndTo,
  padStartTo,
} from './terminal-text.ts';
import type { Query } from './types.ts';

/**
 * Text output of the CLI and the demo: aligned tables, a query's status, CSV, durations and times.
 */

type Cell = QueryResult['rows'][number][number];
export type Alignment = 'left' | 'right';

/** Column types whose values read best right-aligned, as psql shows them. */
const NUMERIC_TYPES = new Set([
  'int2',
  'int4',
  'int8',
  'float4',
  'float8',
  'numeric',
  'decimal',
  'smallint',
  'integer',
  'bigint',
  'real',
  'double precision',
]);

/**
 * An aligned table: a header, a rule of dashes, then the rows, columns two spaces apart, aligned
 * by the columns a terminal gives each character (two for CJK and emoji). Control characters in a
 * value, tabs and line breaks included, are shown escaped, so every row stays on one line and
 * nothing in the data can act on the terminal.
 */
export function formatTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  alignments: readonly Alignment[] = [],
): string {
  const layout = tableLayout(headers, rows, alignments);
  return [...layout.head, ...rows.map(layout.line)].join('\n');
}

/**
 * A table's layout, from its header and the rows it has seen: `head` is the header and the rule,
 * `line` aligns any row to the same columns (a later, wider value widens only its own line), so a
 * long result is printed as it streams, laid out by its first rows.
 */
export function tableLayout(
  headers: readonly string[],
  sample: readonly (readonly string[])[],
  alignments: readonly Alignment[] = [],
): { head: string[]; line: (row: readonly string[]) => string } {
  const header = headers.map(escapeControls);
  const escaped = (row: readonly string[]) => headers.map((_, i) => escapeControls(row[i] ?? ''));
  const body = sample.map(escaped);
  const widths = header.map((title, i) =>
    Math.max(displayWidth(title), ...body.map((row) => displayWidth(row[i] ?? ''))),
  );
  const align = (cells: readonly string[]) =>
    cells
      .map((cell, i) => {
        const width = widths[i] ?? 0;
        return alignments[i] === 'right' ? padStartTo(cell, width) : padEndTo(cell, width);
      })
      .join('  ')
      .trimEnd();
  return {
    head: [align(header), align(widths.map((w) => '-'.repeat(w)))],
    line: (row) => align(escaped(row)),
  };
}

export function cellText(value: Cell): string {
  return value === null ? 'NULL' : String(value);
}

/** How each column of a result reads best: numbers right-aligned, as psql shows them. */
export function alignmentsOf(result: Pick<QueryResult, 'columns'>): Alignment[] {
  return result.columns.map((c) => (NUMERIC_TYPES.has(c.type) ? 'right' : 'left'));
}

/** What a result table says under its rows: how many, and whether the caller's limit cut it. */
export function resultFooter(result: QueryResult, rowCount: number): string {
  return result.truncated
    ? `(${plural(rowCount, 'row')}: rowLimit or byteLimit left out the rest of ${plural(result.totalRows, 'row')})`
    : `(${plural(rowCount, 'row')})`;
}

/** A result without a result set says what it changed instead. */
export const noResultSetText = (result: QueryResult) =>
  `(no result set; ${plural(result.totalRows, 'row')} affected)`;

/** A query result as an aligned table, with a footer giving the row count (and truncation). */
export function formatResultTable(result: QueryResult): string {
  if (result.columns.length === 0) return noResultSetText(result);
  const table = formatTable(
    result.columns.map((c) => c.name),
    result.rows.map((row) => row.map(cellText)),
    alignmentsOf(result),
  );
  return `${table}\n${resultFooter(result, result.rowCount)}`;
}

function csvField(value: Cell): string {
  // An empty string is quoted and NULL is left empty, so the two stay apart (as PostgreSQL's CSV).
  if (value === null) return '';
  const text = String(value);
  return text === '' || /[",\r\n]/.test(text) || text.trim() !== text
    ? `"${text.replaceAll('"', '""')}"`
    : text;
}

/** One RFC 4180 record, with its CRLF. */
export function csvRecord(values: readonly Cell[]): string {
  return `${values.map(csvField).join(',')}\r\n`;
}

/** RFC 4180 CSV: a header row of the column names, CRLF line ends, fields quoted as needed. */
export function toCsv(result: QueryResult): string {
  return [result.columns.map((c) => c.name), ...result.rows].map(csvRecord).join('');
}

export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** `512 B`, `4.2 MB`, `1.3 GB` (decimal units, as S3 and the AWS console show sizes). */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** `850 ms`, `1.25 s`, `12.5 s`, `2 min 5 s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 10_000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms % 60_000) / 1000);
  return `${minutes} min ${seconds} s`;
}

const two = (n: number) => String(n).padStart(2, '0');

/** Local time of day with milliseconds: `14:03:07.250`. */
export function formatTime(date: Date): string {
  return `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}.${String(date.getMilliseconds()).padStart(3, '0')}`;
}

/** Local date and time: `2025-03-01 14:03:07`. */
export function formatDateTime(date: Date): string {
  return `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())} ${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}`;
}

/** `3 s ago`, `in 59 min`, `in 2 h`. */
export function formatRelative(date: Date, now: Date = new Date()): string {
  const diff = date.getTime() - now.getTime();
  const abs = Math.abs(diff);
  const amount =
    abs < 60_000
      ? `${Math.round(abs / 1000)} s`
      : abs < 3_600_000
        ? `${Math.round(abs / 60_000)} min`
        : `${Math.round(abs / 3_600_000)} h`;
  return diff < 0 ? `${amount} ago` : `in ${amount}`;
}

/** `caught (StaleSessionError)`, `retried (2 attempts, TransientServiceError)`. */
export function outcomeText(visit: StateVisit): string {
  const details: string[] = [];
  if (visit.attempts !== undefined && visit.attempts > 1)
    details.push(`${visit.attempts} attempts`);
  if (visit.error) details.push(visit.error);
  return details.length > 0 ? `${visit.outcome} (${details.join(', ')})` : visit.outcome;
}

/** The states an execution passed: state, time entered, duration, outcome. */
export function formatHistory(visits: readonly StateVisit[]): string {
  return formatTable(
    ['STATE', 'ENTERED', 'DURATION', 'OUTCOME'],
    visits.map((visit) => [
      visit.state,
      formatTime(visit.enteredAt),
      visit.durationMs === undefined ? '…' : formatDuration(visit.durationMs),
      outcomeText(visit),
    ]),
    ['left', 'left', 'right', 'left'],
  );
}

/** A query's status as `spectra status` shows it: one labelled line per fact. */
export function formatStatus(query: Query): string {
  const rows: [string, string][] = [
    ['Execution', query.executionArn],
    ['Tenant', query.tenantId],
    ['SQL', oneLineSql(query.sql)],
    ['Status', query.status],
    ['Started', formatDateTime(query.startedAt)],
  ];
  if (query.stoppedAt) {
    rows.push([
      'Stopped',
      `${formatDateTime(query.stoppedAt)} (took ${formatDuration(query.durationMs ?? 0)})`,
    ]);
  }
  const result = query.result;
  if (result) {
    const rowTotal = result.result?.rows ?? result.rowCount;
    const where = result.result
      ? ` in the results bucket until ${formatDateTime(new Date(result.result.expiresAt))}`
      : '';
    const rowsText = result.truncated
      ? `${rowTotal} of ${plural(result.totalRows, 'row')} (rowLimit/byteLimit)${where}`
      : `${plural(rowTotal, 'row')}${where}`;
    const session = result.sessionReused ? 'reused session' : 'new session';
    rows.push(['Result', `${rowsText}, ${session} ${result.sessionId ?? '(none)'}`]);
  }
  const failure = failureOf(query);
  if (failure) rows.push(['Error', `${failure.errorName}: ${failure.message}`]);
  if (query.redrivenAt) {
    rows.push([
      'Redriven',
      `${plural(query.redriveCount, 'time')}, last ${formatDateTime(query.redrivenAt)}`,
    ]);
  }
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `${label.padEnd(width)}  ${escapeMessage(value)}`).join('\n');
}

function oneLineSql(sql: string): string {
  const flat = sql.replace(/\s+/g, ' ').trim();
  return flat.length > 200 ? `${flat.slice(0, 199)}…` : flat;
}
