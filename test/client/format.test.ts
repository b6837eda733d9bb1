import { describe, expect, it } from 'vitest';
import {
  formatDuration,
  formatResultTable,
  formatTable,
  outcomeText,
  toCsv,
} from '../../client/format.ts';
import type { QueryResult } from '../../functions/fetch-results.ts';

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

describe('Function: formatResultTable', () => {
  it('shows NULL and says when rows were cut to fit the output', () => {
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
      'v\n----\nNULL\n(1 of 5000 rows: the rest did not fit in the execution output)',
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
