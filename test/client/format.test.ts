import { describe, expect, it } from 'vitest';
import {
  formatDuration,
  formatResultTable,
  formatTable,
  outcomeText,
  toCsv,
} from '../../client/format.ts';
import type { QueryResult } from '../../functions/common/execution-output.ts';
import { cellColumns, columnAt, lineWidth, TERMINAL_CONTROLS } from '../support/terminal.ts';

const result = (fields: Partial<QueryResult>): QueryResult => ({
  tenantId: 'acme',
  statementId: 'st-1',
  sessionId: 'sess-1',
  sessionReused: true,
  columns: [],
  rows: [],
  rowCount: 0,
  totalRows: 0,
  truncated: false,
  ...fields,
});

describe('Function: toCsv', () => {
  it('quotes what RFC 4180 requires and tells NULL from an empty string', () => {
    // Prepare
    const rows = result({
      columns: [
        { name: 'text', type: 'varchar' },
        { name: 'n', type: 'int4' },
      ],
      rows: [
        ['plain', 1],
        ['a,b', 2],
        ['say "hi"', 3],
        ['two\nlines', 4],
        ['', null],
        [' padded ', 5],
      ],
      rowCount: 6,
      totalRows: 6,
    });

    // Act
    const csv = toCsv(rows);

    // Assess
    expect(csv).toBe(
      [
        'text,n',
        'plain,1',
        '"a,b",2',
        '"say ""hi""",3',
        '"two\nlines",4',
        '"",',
        '" padded ",5',
        '',
      ].join('\r\n'),
    );
  });
});

describe('Function: formatTable', () => {
  it('aligns columns two spaces apart, numbers to the right, and escapes line breaks', () => {
    const table = formatTable(
      ['name', 'count'],
      [
        ['acme', '7'],
        ['a\nb', '1234'],
      ],
      ['left', 'right'],
    );

    expect(table).toBe(['name  count', '----  -----', 'acme      7', 'a\\nb   1234'].join('\n'));
  });
});

const HOSTILE = Object.fromEntries(
  Object.entries(TERMINAL_CONTROLS).map(([name, { value }]) => [name, value]),
);

describe('Function: formatTable, on values a terminal would act on', () => {
  const hostile = result({
    columns: Object.keys(HOSTILE).map((name) => ({ name, type: 'varchar' })),
    rows: [Object.values(HOSTILE)],
    rowCount: 1,
    totalRows: 1,
  });

  it('shows ESC sequences, OSC 8 links, BEL, C1 characters, DEL and bidi controls escaped', () => {
    // Act
    const table = formatResultTable(hostile);

    // Assess: nothing but the line feeds between rows is a control character
    expect(table.replaceAll('\n', '')).not.toMatch(
      /[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069]/u,
    );
    const row = table.split('\n')[2] ?? '';
    expect(row.split(/ {2,}/)).toEqual(Object.values(TERMINAL_CONTROLS).map((c) => c.shown));
  });

  it('writes the same values byte for byte in CSV', () => {
    // Act
    const csv = toCsv(hostile);

    // Assess: only the one value with a line break (\r) is quoted; none is altered
    expect(csv).toBe(
      `${Object.keys(HOSTILE).join(',')}\r\n${Object.values(HOSTILE)
        .map((value) => (value.includes('\r') ? `"${value}"` : value))
        .join(',')}\r\n`,
    );
  });
});

describe('Function: formatTable, with wide characters', () => {
  it('aligns CJK, emoji and combining marks by the columns a terminal gives them', () => {
    // Prepare
    const rows = [
      ['東京', 'こんにちは 🎉', '1'],
      ['Zoe\u0308', '👩‍💻 hi 🇯🇵', '22'],
      ['Osaka', 'hey', '333'],
      ['大阪', 'Ａ…', '4444'],
    ];

    // Act
    const lines = formatTable(['city', 'greeting', '売上'], rows, ['left', 'left', 'right']).split(
      '\n',
    );

    // Assess: every column starts where its header starts, the numbers end where theirs ends
    const [header, rule, ...body] = lines as [string, string, ...string[]];
    const [city, greeting, sales] = cellColumns(header, ['city', 'greeting', '売上']);
    const dashRuns = [...rule.matchAll(/-+/g)].map((run) => ({
      start: columnAt(rule, run.index),
      end: columnAt(rule, run.index + run[0].length),
    }));
    expect(dashRuns).toEqual([
      { start: 0, end: 5 },
      { start: 7, end: 20 },
      { start: 22, end: 26 },
    ]);
    expect([city?.start, greeting?.start, sales?.end]).toEqual([0, 7, 26]);
    body.forEach((line, i) => {
      const cells = cellColumns(line, rows[i] ?? []);
      expect(cells.map((cell) => cell.start).slice(0, 2)).toEqual([0, 7]);
      expect(cells[2]?.end).toBe(26);
      expect(lineWidth(line)).toBe(26);
    });
  });
});

describe('Function: formatResultTable', () => {
  it("shows NULL and says when the caller's rowLimit or byteLimit cut the result", () => {
    const table = formatResultTable(
      result({
        columns: [{ name: 'v', type: 'varchar' }],
        rows: [[null]],
        rowCount: 1,
        totalRows: 5000,
        truncated: true,
      }),
    );

    expect(table).toBe(
      'v\n----\nNULL\n(1 row: rowLimit or byteLimit left out the rest of 5000 rows)',
    );
  });

  it('reports the rows affected by a statement without a result set', () => {
    expect(formatResultTable(result({ totalRows: 3 }))).toBe('(no result set; 3 rows affected)');
  });
});

describe('Function: formatDuration', () => {
  it.each([
    [42, '42 ms'],
    [1250, '1.25 s'],
    [12_500, '12.5 s'],
    [125_000, '2 min 5 s'],
  ])('formats %i ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('Function: outcomeText', () => {
  it('adds the attempts and the error when there is something to say', () => {
    const enteredAt = new Date(0);
    expect(
      outcomeText({ state: 'A', type: 'Task', enteredAt, outcome: 'succeeded', attempts: 1 }),
    ).toBe('succeeded');
    expect(
      outcomeText({
        state: 'A',
        type: 'Task',
        enteredAt,
        outcome: 'retried',
        attempts: 3,
        error: 'TransientServiceError',
      }),
    ).toBe('retried (3 attempts, TransientServiceError)');
  });
});
