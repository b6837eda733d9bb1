import { describe, expect, it } from 'vitest';
import { bindSql, PlaceholderError } from '../../local/redshift-data/sql-text.ts';

describe('Function: bindSql', () => {
  const n = [{ name: 'n', value: '7' }];

  it('numbers placeholders by first use and reuses the number for a repeated name', () => {
    // Act
    const bound = bindSql('select :b, :a, :b', [
      { name: 'a', value: '1' },
      { name: 'b', value: '2' },
    ]);

    // Assess
    expect(bound.text).toBe('select $1, $2, $1');
    expect(bound.values).toEqual(['2', '1']);
    expect([...bound.used]).toEqual(['b', 'a']);
  });

  it.each([
    ['a string literal', "select ':n', :n", "select ':n', $1"],
    ['a string with a doubled quote', "select 'it''s :n', :n", "select 'it''s :n', $1"],
    ['an escape string', "select E'\\' :n', :n", "select E'\\' :n', $1"],
    ['a quoted identifier', 'select 1 as ":n", :n', 'select 1 as ":n", $1'],
    ['a dollar-quoted string', 'select $$ :n $$, :n', 'select $$ :n $$, $1'],
    ['a tagged dollar quote', 'select $q$ :n $$ :n $q$, :n', 'select $q$ :n $$ :n $q$, $1'],
    ['a line comment', 'select :n -- :n\n', 'select $1 -- :n\n'],
    ['a nested block comment', 'select /* a /* :n */ :n */ :n', 'select /* a /* :n */ :n */ $1'],
    ['a cast', 'select :n::int', 'select $1::int'],
    ['an array slice', 'select (array[1,2])[1:2], :n', 'select (array[1,2])[1:2], $1'],
  ])('leaves :n alone inside %s', (_case, sql, expected) => {
    // Act
    const bound = bindSql(sql, n);

    // Assess
    expect(bound.text).toBe(expected);
  });

  it('does not mistake a positional $1 for a dollar quote', () => {
    // Act
    const bound = bindSql('select $1, :n', n);

    // Assess
    expect(bound.text).toBe('select $1, $1');
  });

  it('throws PlaceholderError for a placeholder without a parameter', () => {
    // Act
    const act = () => bindSql('select :n, :other', n);

    // Assess
    expect(act).toThrow(PlaceholderError);
    expect(act).toThrow(
      'The SQL refers to :other, but no parameter is named other. Add it to Parameters or remove the placeholder.',
    );
  });

  it('keeps colons when no parameters are given', () => {
    // Act
    const bound = bindSql('select :n', undefined);

    // Assess
    expect(bound).toEqual({ text: 'select :n', values: [], used: new Set() });
  });

  it.each([
    ['DATEADD(day, 1, d)', "DATEADD('day', 1, d)"],
    ['datediff( month ,a, b)', "datediff( 'month' ,a, b)"],
    ["dateadd('day', 1, d)", "dateadd('day', 1, d)"],
    ['dateadd(somecolumn, 1, d)', 'dateadd(somecolumn, 1, d)'],
  ])('quotes the bare date part of %s', (sql, expected) => {
    // Act
    const bound = bindSql(sql, undefined);

    // Assess
    expect(bound.text).toBe(expected);
  });
});
