import { beforeAll, describe, expect, it } from 'vitest';
import { TranslationError } from '../../local/redshift-data/dialect/errors.ts';
import { loadSqlScanner } from '../../local/redshift-data/dialect/tokens.ts';
import { translateStatement } from '../../local/redshift-data/dialect/translate.ts';

/**
 * The Redshift-to-PostgreSQL translator on its own: what it rewrites, what it leaves exactly as
 * written, and what it refuses. What the translations return on the engines is the fidelity
 * suite's (test/fidelity/).
 */

beforeAll(async () => {
  await loadSqlScanner();
});

const sqlOf = (sql: string) => translateStatement(sql).sql;

function refusal(sql: string): TranslationError {
  try {
    translateStatement(sql);
  } catch (error) {
    expect(error).toBeInstanceOf(TranslationError);
    return error as TranslationError;
  }
  throw new Error(`translated: ${sql}`);
}

/** SQL PostgreSQL takes as Redshift does, with comments and literals that name Redshift's words. */
const POSTGRES_SQL = "select /* keep */ a, 'dateadd(day, 1, x)' from t -- sysdate\nwhere b = $1";

describe('Function: translateStatement', () => {
  it.each([
    [
      'leaves PostgreSQL-compatible SQL exactly as written, comments and literals included',
      POSTGRES_SQL,
      POSTGRES_SQL,
    ],
    [
      'keeps the positional parameters the Data API placeholders became',
      'select dateadd(day, $1, $2)',
      "select spectra.date_add('day', $1, $2)",
    ],
    [
      'translates across nested calls: DECODE of a DATEADD',
      "select decode(dateadd(d, 1, x), '2020-01-02', 'yes')",
      "select CASE WHEN (spectra.date_add('d', 1, x)) IS NOT DISTINCT FROM ('2020-01-02') THEN 'yes' END",
    ],
    [
      'turns TOP n into a LIMIT of the same query level',
      'select top 10 * from (select top 5 a from t order by a) s order by 1',
      'select * from (select a from t order by a LIMIT 5) s order by 1 LIMIT 10',
    ],
    [
      'reads words inside strings and quoted identifiers as text',
      `select "sysdate", 'sysdate', sysdate from t`,
      `select "sysdate", 'sysdate', spectra."timestamp"() from t`,
    ],
    [
      'navigates into a SUPER value after a subscript with jsonb subscripts',
      'select c.orders[0].O_OrderKey from t c',
      "select c.orders[0]['o_orderkey'] from t c",
    ],
    [
      'keeps the text after non-ASCII characters in place',
      "select 'français', nvl(a, b) from t",
      "select 'français', coalesce(a, b) from t",
    ],
  ])('%s', (_behaviour, sql, translated) => {
    // Act & Assess
    expect(sqlOf(sql)).toBe(translated);
  });

  it.each([
    [
      'refuses TOP together with LIMIT, as Redshift does',
      'select top 2 a from t limit 3',
      'ERROR: syntax error at or near "limit"',
    ],
    [
      'refuses a derived table without an alias, which PostgreSQL 16+ would take',
      'select * from (select 1)',
      'ERROR: subquery in FROM must have an alias',
    ],
  ])('%s', (_behaviour, sql, message) => {
    // Act
    const error = refusal(sql);

    // Assess
    expect(error.message).toBe(message);
  });

  it('takes the table attributes out of CREATE TABLE and records them in a follow-up', () => {
    // Act
    const translation = translateStatement(
      'create table t (id int identity(1, 1) encode az64, c varchar(max) distkey) diststyle key sortkey (id)',
    );

    // Assess
    expect(translation.sql).toBe(
      'create table t (id int GENERATED ALWAYS AS IDENTITY (START WITH 1 INCREMENT BY 1), c varchar(65535))',
    );
    expect(translation.followUps).toEqual([
      `SELECT spectra.record_table_attributes('t', 'key', 'c', ARRAY['id']::text[], NULL, '{"id":"az64"}'::jsonb)`,
    ]);
  });

  it('filters QUALIFY through an extra column the caller drops', () => {
    // Act
    const translation = translateStatement(
      'select a from t qualify row_number() over (order by a) = 1 order by a limit 5',
    );

    // Assess
    expect(translation.hiddenColumns).toBe(1);
    expect(translation.sql).toBe(
      'SELECT * FROM (select a, (row_number() over (order by a) = 1) AS "__spectra_qualify" from t order by a) AS "__spectra_qualified" WHERE "__spectra_qualify" limit 5',
    );
  });

  it.each([
    [
      'QUALIFY inside a subquery',
      'select * from (select a from t qualify rank() over (order by a) = 1) s',
    ],
    ['MEDIAN as a window function', 'select median(a) over (partition by b) from t'],
    ['PartiQL unnesting', 'select o from t as c, c.items as o'],
  ])('refuses %s as not emulated', (_what, sql) => {
    // Act
    const error = refusal(sql);

    // Assess
    expect(error.sqlState).toBe('0A000');
    expect(error.message).toContain('is not emulated locally');
  });
});
