import { describe, expect, it } from 'vitest';
import {
  classifySql,
  isFailedTransactionError,
  placeholderNames,
  splitStatements,
} from '../../functions/common/sql-statements.ts';

const kindsOf = (sql: string) =>
  classifySql(sql).statements.map((statement) => [statement.kind, statement.command]);

describe('Function: classifySql', () => {
  // Transaction control, then what changes the session's state beyond the statement itself.
  it.each([
    ['begin', 'transaction-control', 'BEGIN'],
    ['BEGIN TRANSACTION ISOLATION LEVEL SERIALIZABLE', 'transaction-control', 'BEGIN'],
    ['start transaction', 'transaction-control', 'START TRANSACTION'],
    ['commit', 'transaction-control', 'COMMIT'],
    ['end', 'transaction-control', 'END'],
    ['end transaction', 'transaction-control', 'END'],
    ['rollback', 'transaction-control', 'ROLLBACK'],
    ['rollback to savepoint a', 'transaction-control', 'ROLLBACK'],
    ['abort', 'transaction-control', 'ABORT'],
    ['savepoint a', 'transaction-control', 'SAVEPOINT'],
    ['release savepoint a', 'transaction-control', 'RELEASE'],
    ["prepare transaction 'x'", 'transaction-control', 'PREPARE TRANSACTION'],
    ['set search_path to pg_catalog', 'session-state', 'SET'],
    ['SET SESSION statement_timeout = 10', 'session-state', 'SET'],
    ['reset all', 'session-state', 'RESET'],
    ['set session authorization other_user', 'session-state', 'SET SESSION AUTHORIZATION'],
    ['set role other_user', 'session-state', 'SET ROLE'],
    ['create temp table t as select 42', 'session-state', 'CREATE TEMP TABLE'],
    ['CREATE LOCAL TEMPORARY TABLE t (a int)', 'session-state', 'CREATE TEMP TABLE'],
    ['create temporary view v as select 1', 'session-state', 'CREATE TEMP VIEW'],
    ['create table #t (a int) diststyle even', 'session-state', 'CREATE TABLE #'],
    ['create table if not exists #t (a int)', 'session-state', 'CREATE TABLE #'],
    ['select 1 as a into temp t', 'session-state', 'SELECT INTO TEMP'],
    ['select 1 as a into #t', 'session-state', 'SELECT INTO TEMP'],
    ['(select 1 as a into temporary t)', 'session-state', 'SELECT INTO TEMP'],
    ['declare c cursor for select 1', 'session-state', 'DECLARE'],
    ['prepare p as select 1', 'session-state', 'PREPARE'],
    ['deallocate p', 'session-state', 'DEALLOCATE'],
    ['call my_procedure()', 'session-state', 'CALL'],
    ['do $$ begin perform 1; end $$', 'session-state', 'DO'],
    ["select set_config('search_path', 'x', false)", 'session-state', 'SELECT set_config()'],
    ["select pg_catalog.set_config ('a.b', 'x', false)", 'session-state', 'SELECT set_config()'],
    ['select pg_advisory_lock(1)', 'session-state', 'SELECT pg_advisory_lock()'],
    ['explain analyze create temp table t as select 1', 'session-state', 'CREATE TEMP TABLE'],
  ])('reads %s as %s (%s)', (sql, kind, command) => {
    expect(kindsOf(sql)).toEqual([[kind, command]]);
  });

  it.each([
    'select * from sales',
    'insert into t values (1)',
    'create table t (a int)',
    'set local statement_timeout = 10',
    'set transaction read only',
    'update t set a = 1',
    'alter user u set search_path to x',
    'select 1 into t',
    'with x as (select 1) insert into t select * from x',
    "select 'set_config(' from t",
    'explain select 1',
  ])('reads %s as changing nothing beyond itself', (sql) => {
    expect(kindsOf(sql)[0]?.[0]).toBe('other');
  });

  it.each([
    ['a line comment', '-- set search_path\nselect 1'],
    ['a block comment', '/* begin; */ select 1'],
    ['a nested block comment', '/* a /* begin; */ set x = 1; */ select 1'],
    ['a string', "select 'begin; set x = 1'"],
    ['a string with a doubled quote', "select 'it''s; begin'"],
    ['a quoted identifier', 'select 1 as "begin; set"'],
    ['a dollar quote', 'select $$ ; begin; $$'],
    ['a tagged dollar quote', 'select $q$ $$; begin; $$ $q$'],
  ])('ignores keywords and semicolons inside %s', (_case, sql) => {
    expect(kindsOf(sql)).toEqual([['other', 'SELECT']]);
  });

  it('reads the first keyword after leading whitespace and comments', () => {
    expect(kindsOf('  \n\t-- a comment\n /* another */  BEGIN')).toEqual([
      ['transaction-control', 'BEGIN'],
    ]);
  });

  it('classifies each statement of a script', () => {
    // Act
    const classified = classifySql(
      'create temp table t as select 1; select * from t;\n begin; insert into x values (1);',
    );

    // Assess
    expect(classified.statements.map((s) => [s.index, s.kind, s.text])).toEqual([
      [0, 'session-state', 'create temp table t as select 1'],
      [1, 'other', 'select * from t'],
      [2, 'transaction-control', 'begin'],
      [3, 'other', 'insert into x values (1)'],
    ]);
    expect(classified.transactionControl.map((s) => s.index)).toEqual([2]);
    expect(classified.sessionState.map((s) => s.index)).toEqual([0]);
  });

  it('takes the stricter reading when a backslash makes Redshift and PostgreSQL split differently', () => {
    // Redshift reads one string; PostgreSQL reads a string, then BEGIN, then a comment.
    const classified = classifySql("select 'a\\'; begin; --'");

    expect(classified.statements).toHaveLength(1);
    expect(classified.transactionControl.map((s) => s.command)).toEqual(['BEGIN']);
  });

  it('reads the identity a SET SESSION AUTHORIZATION or SET ROLE asks for', () => {
    expect(classifySql("set session authorization 'Bob'").statements[0]?.identity).toBe('Bob');
    expect(classifySql('SET SESSION AUTHORIZATION Bob').statements[0]?.identity).toBe('bob');
    expect(classifySql('set session authorization default').statements[0]?.identity).toBe(
      'DEFAULT',
    );
    expect(classifySql('reset role').statements[0]?.identity).toBe('DEFAULT');
  });
});

describe('Function: splitStatements', () => {
  it('splits at semicolons outside literals and parentheses, dropping empty statements', () => {
    // Act
    const statements = splitStatements(
      "create rule r as on insert to t do also (insert into a values (1); insert into b values (2));\n;; select ';' -- ;\n;",
    );

    // Assess
    expect(statements.map((s) => s.text)).toEqual([
      'create rule r as on insert to t do also (insert into a values (1); insert into b values (2))',
      "select ';' -- ;",
    ]);
  });
});

describe('Function: placeholderNames', () => {
  it('finds :name outside strings, comments and casts', () => {
    expect([
      ...placeholderNames('select :a, \':b\', "c:d", :e::int, x[1:f] -- :g\n /* :h */ $$ :i $$'),
    ]).toEqual(['a', 'e']);
  });
});

describe('Function: isFailedTransactionError', () => {
  it('recognises the error Redshift answers inside a failed transaction', () => {
    expect(
      isFailedTransactionError(
        'ERROR: current transaction is aborted, commands ignored until end of transaction block',
      ),
    ).toBe(true);
    expect(isFailedTransactionError('ERROR: relation "x" does not exist')).toBe(false);
    expect(isFailedTransactionError(undefined)).toBe(false);
  });
});
