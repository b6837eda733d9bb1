/**
 * Documented examples of the Amazon Redshift Database Developer Guide's SQL reference, each with
 * the result the guide gives for it. `page` names the guide page (doc_source/<page> in the
 * guide's source); the statements are the guide's, the setups (tables and rows an example needs)
 * are written for this suite. Examples on the TICKIT sample data use the local demo schema where
 * it holds the same rows (`category` is TICKIT's), or a small table of their own with the rows
 * the example shows (`winsales` is the guide's window-function table, created once by
 * {@link SHARED_SETUP}).
 *
 * A value is what a user reads from the Data API's Field: a string, a number (longValue or
 * doubleValue; a DECIMAL's stringValue is compared as a number), a boolean or null.
 *
 * Over 400 lines because it is one table of data, not logic: its groups follow the guide's
 * chapters (dates, strings, math, ...), and {@link FIDELITY_CASES} at the end lists them all.
 */

export type Value = string | number | boolean | null;

export interface FidelityCase {
  page: string;
  /** Statements run first, in the same batch (and so the same transaction). */
  setup?: string[];
  sql: string;
  /** The result's column names, where the guide shows them. */
  columns?: string[];
  /** The documented rows, in order. */
  rows?: Value[][];
  /** The documented failure: a part of Redshift's error text. */
  error?: string;
  /**
   * Not a documented example but a check of this suite's own, in the guide's style: what the
   * emulator must do for a construct whose page has no example that runs without an AWS account
   * (QUALIFY, windowed MEDIAN, a derived table without an alias, ...). Reported apart from the
   * documented examples.
   */
  own?: true;
  /**
   * Not emulated: the local stack does not give the guide's answer and must fail the statement
   * with an error that contains this text (never answer otherwise).
   */
  local?: string;
}

/** Tables several examples share, created once before the cases run. */
export const SHARED_SETUP = [
  `CREATE TABLE winsales (salesid int, dateid date, sellerid int, buyerid char(10), qty int,
     qty_shipped int)`,
  `INSERT INTO winsales VALUES
     (30001, '2003-08-02', 3, 'b', 10, 10), (10001, '2003-12-24', 1, 'c', 10, 10),
     (10005, '2003-12-24', 1, 'a', 30, null), (40001, '2004-01-09', 4, 'a', 40, null),
     (10006, '2004-01-18', 1, 'c', 10, null), (20001, '2004-02-12', 2, 'b', 20, 20),
     (40005, '2004-02-12', 4, 'a', 10, 10), (20002, '2004-02-16', 2, 'c', 20, 20),
     (30003, '2004-04-18', 3, 'b', 15, null), (30004, '2004-04-18', 3, 'b', 20, null),
     (30007, '2004-09-07', 3, 'c', 30, null)`,
];

/** A case whose result is one row of one value. */
const one = (page: string, sql: string, value: Value, column?: string): FidelityCase => ({
  page,
  sql,
  rows: [[value]],
  columns: column === undefined ? undefined : [column],
});

/** Marks a check of the suite's own (see {@link FidelityCase.own}). */
const OWN = { own: true } as const;

/** Marks a documented example the local stack does not emulate: it must fail saying so. */
const NOT_EMULATED = { local: 'is not emulated locally' } as const;

/** A check of the suite's own whose result is one value. */
const own = (page: string, sql: string, value: Value, column?: string): FidelityCase => ({
  ...one(page, sql, value, column),
  ...OWN,
});

/** A statement and the one value it returns. */
type Example = [sql: string, value: Value];

/**
 * Several examples of one page whose results are one value each, in a column of one name
 * (`undefined` where the guide does not show it).
 */
const values = (
  page: string,
  column: string | undefined,
  examples: Example[],
  marks: Pick<FidelityCase, 'own' | 'local'> = {},
): FidelityCase[] =>
  examples.map(([sql, value]) => ({ ...one(page, sql, value, column), ...marks }));

const CATEGORY_NAMES = [
  'MLB',
  'NHL',
  'NFL',
  'NBA',
  'MLS',
  'Musicals',
  'Plays',
  'Opera',
  'Pop',
  'Jazz',
  'Classical',
];

const dateFunctions: FidelityCase[] = [
  ...values('r_DATEADD_function.md', 'date_add', [
    [`select dateadd(month,18,'2008-02-28')`, '2009-08-28 00:00:00'],
    [`select dateadd(m,30,'2008-02-28')`, '2008-02-28 00:30:00'],
    [`select dateadd(hour, 8, time '13:24:55')`, '21:24:55'],
    [`select dateadd(hour, 12, time '13:24:55')`, '01:24:55'],
    [`select dateadd(month,1,'2008-04-30')`, '2008-05-30 00:00:00'],
    [`select dateadd(month,12,'2016-02-29')`, '2017-02-28 00:00:00'],
    [`select dateadd(year, 1, '2016-02-29')`, '2017-03-01 00:00:00'],
  ]),
  {
    page: 'r_DATEADD_function.md',
    sql: `select dateadd(day,30,caldate) as novplus30 from date where month='NOV' order by dateid limit 3`,
    columns: ['novplus30'],
    rows: [['2008-12-01 00:00:00'], ['2008-12-02 00:00:00'], ['2008-12-03 00:00:00']],
  },
  {
    page: 'r_DATEADD_function.md',
    setup: [
      'create table time_test (time_val time)',
      `insert into time_test values ('20:00:00'), ('00:00:00.5550'), ('00:58:00')`,
    ],
    sql: 'select dateadd(minute,5,time_val) as minplus5 from time_test',
    columns: ['minplus5'],
    rows: [['20:05:00'], ['00:05:00.555'], ['01:03:00']],
  },
  one(
    'r_DATEDIFF_function.md',
    `select datediff(week,'2009-01-01','2009-12-31') as numweeks`,
    52,
    'numweeks',
  ),
  one(
    'r_DATEDIFF_function.md',
    `select datediff(hour, '2023-01-01', '2023-01-03 05:04:03')`,
    53,
    'date_diff',
  ),
  one(
    'r_DATEDIFF_function.md',
    `select datediff(minute, time '20:00:00', time '21:00:00') as nummins`,
    60,
    'nummins',
  ),
  {
    page: 'r_DATEDIFF_function.md',
    setup: [
      'create table date_table (start_date date, end_date date)',
      `insert into date_table values ('2009-01-01', '2009-03-23'), ('2023-01-04', '2024-05-04')`,
    ],
    sql: 'select datediff(day, start_date, end_date) as duration from date_table',
    columns: ['duration'],
    rows: [[81], [486]],
  },
  ...values('r_DATE_PART_function.md', 'pgdate_part', [
    [`SELECT DATE_PART(minute, timestamp '20230104 04:05:06.789')`, 5],
    [`SELECT DATE_PART(week, timestamp '20220502 04:05:06.789')`, 18],
    [`SELECT DATE_PART(day, timestamp '20220502 04:05:06.789')`, 2],
    [`SELECT DATE_PART(dayofweek, timestamp '20220502 04:05:06.789')`, 1],
    [`SELECT DATE_PART(century, timestamp '20220502 04:05:06.789')`, 21],
    [`SELECT DATE_PART(millennium, timestamp '20220502 04:05:06.789')`, 3],
    [`SELECT DATE_PART(microsecond, timestamp '20220502 04:05:06.789')`, 789000],
    [`SELECT DATE_PART(month, date '20220502')`, 5],
  ]),
  ...values('r_EXTRACT_function.md', 'date_part', [
    [`select extract(minute from timestamp '2009-09-09 12:08:43')`, 8],
    [`select extract(ms from timestamp '2009-09-09 12:08:43.101')`, 101],
    [`select extract(ms from time '18:25:33.123456')`, 123],
  ]),
  {
    page: 'r_EXTRACT_function.md',
    setup: [
      'create table time_test2 (time_val time)',
      `insert into time_test2 values ('20:00:00'), ('00:00:00.5550'), ('00:58:00')`,
    ],
    sql: 'select extract(minute from time_val) as minutes from time_test2',
    columns: ['minutes'],
    rows: [[0], [0], [58]],
  },
  ...values('r_Dateparts_for_datetime_functions.md', 'date_part', [
    [`select extract (century from timestamp '2000-12-16 12:21:13')`, 20],
    [`select extract (century from timestamp '2001-12-16 12:21:13')`, 21],
  ]),
  {
    page: 'r_Dateparts_for_datetime_functions.md',
    setup: [
      'create table seconds(micro timestamp)',
      `insert into seconds values('2009-09-21 11:10:03.189717')`,
    ],
    sql: 'select extract(sec from micro), date_part(sec, micro) from seconds',
    columns: ['date_part', 'pgdate_part'],
    rows: [[3, 3.189717]],
  },
  ...values('r_DATE_TRUNC.md', 'date_trunc', [
    [`SELECT DATE_TRUNC('second', TIMESTAMP '20200430 04:05:06.789')`, '2020-04-30 04:05:06'],
    [`SELECT DATE_TRUNC('minute', TIMESTAMP '20200430 04:05:06.789')`, '2020-04-30 04:05:00'],
    [`SELECT DATE_TRUNC('hour', TIMESTAMP '20200430 04:05:06.789')`, '2020-04-30 04:00:00'],
    [`SELECT DATE_TRUNC('day', TIMESTAMP '20200430 04:05:06.789')`, '2020-04-30 00:00:00'],
    [`SELECT DATE_TRUNC('month', TIMESTAMP '20200430 04:05:06.789')`, '2020-04-01 00:00:00'],
    [`SELECT DATE_TRUNC('quarter', TIMESTAMP '20200430 04:05:06.789')`, '2020-04-01 00:00:00'],
    [`SELECT DATE_TRUNC('year', TIMESTAMP '20200430 04:05:06.789')`, '2020-01-01 00:00:00'],
    [`SELECT DATE_TRUNC('millennium', TIMESTAMP '20200430 04:05:06.789')`, '2001-01-01 00:00:00'],
    [`select date_trunc('week', TIMESTAMP '20220430 04:05:06.789')`, '2022-04-25 00:00:00'],
  ]),
  one(
    'r_DATE_PART_YEAR.md',
    `SELECT DATE_PART_YEAR(date '20220502 04:05:06.789')`,
    2022,
    'date_part_year',
  ),
  {
    page: 'r_DATE_PART_YEAR.md',
    sql: 'select caldate, date_part_year(caldate) from date order by dateid limit 2',
    columns: ['caldate', 'date_part_year'],
    rows: [
      ['2008-01-01', 2008],
      ['2008-01-02', 2008],
    ],
  },
  one(
    'r_AT_TIME_ZONE.md',
    `SELECT TIMESTAMP WITH TIME ZONE '2001-02-16 20:38:40-05' AT TIME ZONE 'MST'`,
    '2001-02-16 18:38:40',
  ),
  ...values('r_ADD_MONTHS.md', 'add_months', [
    [`select add_months('2008-03-31',1)`, '2008-04-30 00:00:00'],
    [`select add_months('2008-04-30',1)`, '2008-05-31 00:00:00'],
  ]),
  one(
    'r_MONTHS_BETWEEN_function.md',
    `select months_between('1969-01-18', '1969-03-18') as months`,
    -2,
    'months',
  ),
  one('r_NEXT_DAY.md', `select next_day('2014-08-20','Tuesday')`, '2014-08-26', 'next_day'),
  own('r_LAST_DAY.md', `select last_day(date '2014-01-15')`, '2014-01-31', 'last_day'),
  one(
    'r_TRUNC_date.md',
    `select trunc(timestamp '2011-07-21 10:32:38.248109')`,
    '2011-07-21',
    'trunc',
  ),
  own('r_SYSDATE.md', 'select trunc(sysdate) = current_date', true),
  { page: 'r_SYSDATE.md', sql: 'select sysdate', columns: ['timestamp'] },
  { page: 'r_GETDATE.md', sql: 'select getdate()', columns: ['getdate'] },
  ...values('CONVERT_TIMEZONE.md', 'convert_timezone', [
    [`select convert_timezone('EST', 'PST', '20080305 12:25:29')`, '2008-03-05 09:25:29'],
    [`select convert_timezone('America/New_York', '2013-02-01 08:00:00')`, '2013-02-01 03:00:00'],
    [`select convert_timezone('America/New_York', '2013-06-01 08:00:00')`, '2013-06-01 04:00:00'],
  ]),
  ...values('r_INTERVAL_CMP.md', 'interval_cmp', [
    [`select interval_cmp('3 days','1 year')`, -1],
    [`select interval_cmp('7 days','1 week')`, 0],
  ]),
  ...values('r_interval_literals.md', 'dateplus', [
    [
      `select caldate + interval '1 second' as dateplus from date where caldate='12-31-2008'`,
      '2008-12-31 00:00:01',
    ],
    [
      `select caldate + interval '52 weeks' as dateplus from date where caldate='12-31-2008'`,
      '2009-12-30 00:00:00',
    ],
    [
      `select caldate + interval '0.5 days' as dateplus from date where caldate='12-31-2008'`,
      '2008-12-31 12:00:00',
    ],
  ]),
  one(
    'r_DATE-CONCATENATE_function.md',
    `select date '2000-01-01' + time '20:00:00' as ts`,
    '2000-01-01 20:00:00',
    'ts',
  ),
  ...values('r_TO_CHAR.md', 'to_char', [
    [`select to_char(timestamp '2009-12-31 23:15:59', 'DDD')`, '365'],
    [`select to_char(timestamp '2022-05-16 23:15:59', 'ID')`, '1'],
    [
      `select to_char(timestamp '2009-12-31 23:15:59', 'MONTH-DY-DD-YYYY HH12:MIPM')`,
      'DECEMBER -THU-31-2009 11:15PM',
    ],
  ]),
  ...values('r_TO_DATE_function.md', 'to_date', [
    [`select to_date('02 Oct 2001', 'DD Mon YYYY')`, '2001-10-02'],
    [`select to_date('20010631', 'YYYYMMDD', FALSE)`, '2001-07-01'],
  ]),
  {
    page: 'r_TO_DATE_function.md',
    sql: `select to_date('20010631', 'YYYYMMDD', TRUE)`,
    error: 'out of range',
  },
  one(
    'r_TO_TIMESTAMP.md',
    `SELECT TO_TIMESTAMP('2017','YYYY')`,
    '2017-01-01 00:00:00+00',
    'to_timestamp',
  ),
  one('r_comparison_condition.md', `select time '18:25:33.123456' = time '18:25:33.123456'`, true),
];

const stringFunctions: FidelityCase[] = [
  ...values('r_CHARINDEX.md', 'charindex', [
    [`select charindex('dog', 'fish')`, 0],
    [`select charindex('fish', 'dogfish')`, 4],
  ]),
  ...values('r_STRTOL.md', 'strtol', [
    [`select strtol('0xf',16)`, 15],
    [`select strtol('abcd1234',16)`, 2882343476],
    [`select strtol('1234567', 10)`, 1234567],
    [`select strtol('1234567', 8)`, 342391],
    [`select strtol('110101', 2)`, 53],
  ]),
  own('r_REPEAT.md', `select repeat('ab', 3)`, 'ababab', 'repeat'),
  own('r_REPLICATE.md', `select replicate('ab', 3)`, 'ababab', 'replicate'),
  ...values('r_SUBSTRING.md', 'substring', [
    [`select substring('caterpillar',6,4)`, 'pill'],
    [`select substring('caterpillar',6,8)`, 'pillar'],
    [`select substring('caterpillar',-2,6)`, 'cat'],
    [`select substring('caterpillar',-5,4)`, ''],
  ]),
  one('r_CONCAT.md', `select concat('December 25, ', '2008')`, 'December 25, 2008', 'concat'),
  one('r_CONCAT.md', `select 'December 25, '||'2008'`, 'December 25, 2008', '?column?'),
  one(
    'r_CONCAT.md',
    `select concat('Thursday, ', concat('December 25, ', '2008'))`,
    'Thursday, December 25, 2008',
    'concat',
  ),
  ...values('r_POSITION.md', 'position', [
    [`select position('dog' in 'fish')`, 0],
    [`select position('fish' in 'dogfish')`, 4],
  ]),
  ...values('r_STRPOS.md', 'strpos', [
    [`select strpos('dogfish', 'fist')`, 0],
    [`select strpos('dogfish', 'fish')`, 4],
  ]),
  one('r_TRANSLATE.md', `select translate('mint tea', 'inea', 'osin')`, 'most tin', 'translate'),
  {
    page: 'r_LEN.md',
    sql: `select octet_length('français'), len('français')`,
    columns: ['octet_length', 'len'],
    rows: [[9, 8]],
  },
  {
    page: 'r_LEN.md',
    sql: `select len('cat'), len('cat   ')`,
    columns: ['len', 'len'],
    rows: [[3, 6]],
  },
  ...values('r_ASCII.md', 'ascii', [
    [`select ascii('amazon')`, 97],
    [`select ascii('Amazon')`, 65],
  ]),
  {
    page: 'r_BTRIM.md',
    sql: `select '     abc    ' as untrim, btrim('     abc    ') as trim`,
    columns: ['untrim', 'trim'],
    rows: [['     abc    ', 'abc']],
  },
  {
    page: 'r_BTRIM.md',
    sql: `select 'xyzaxyzbxyzcxyz' as untrim, btrim('xyzaxyzbxyzcxyz', 'xyz') as trim`,
    rows: [['xyzaxyzbxyzcxyz', 'axyzbxyzc']],
  },
  one('r_TRIM.md', `select trim('"' FROM '"dog"')`, 'dog', 'btrim'),
  {
    page: 'r_GREATEST_LEAST.md',
    setup: [
      'create table users_gl (userid int, firstname varchar(30), lastname varchar(30))',
      `insert into users_gl values (3, 'Lars', 'Ratliff'), (5, 'Reagan', 'Hodge'), (8, 'Colton', 'Roy')`,
    ],
    sql: 'select firstname, lastname, greatest(firstname,lastname) from users_gl order by 3',
    columns: ['firstname', 'lastname', 'greatest'],
    rows: [
      ['Lars', 'Ratliff', 'Ratliff'],
      ['Reagan', 'Hodge', 'Reagan'],
      ['Colton', 'Roy', 'Roy'],
    ],
  },
  one('r_MD5.md', `select md5('Amazon Redshift')`, 'f7415e33f972c03abd4f3fed36748f7a', 'md5'),
  {
    page: 'r_LOWER.md',
    sql: 'select catname, lower(catname) from category order by 1,2 limit 3',
    columns: ['catname', 'lower'],
    rows: [
      ['Classical', 'classical'],
      ['Jazz', 'jazz'],
      ['MLB', 'mlb'],
    ],
  },
  {
    page: 'r_UPPER.md',
    sql: 'select catname, upper(catname) from category order by 1,2 limit 3',
    columns: ['catname', 'upper'],
    rows: [
      ['Classical', 'CLASSICAL'],
      ['Jazz', 'JAZZ'],
      ['MLB', 'MLB'],
    ],
  },
  {
    page: 'r_INITCAP.md',
    sql: 'select initcap(catname) from category order by catname',
    columns: ['initcap'],
    rows: [
      'Classical',
      'Jazz',
      'Mlb',
      'Mls',
      'Musicals',
      'Nba',
      'Nfl',
      'Nhl',
      'Opera',
      'Plays',
      'Pop',
    ].map((name) => [name]),
  },
  {
    page: 'r_INITCAP.md',
    sql: 'select catid, catdesc, initcap(catdesc) from category where catid in (7, 11) order by 1, 2, 3',
    rows: [
      [7, 'All non-musical theatre', 'All Non-Musical Theatre'],
      [
        11,
        'All symphony, concerto, and choir concerts',
        'All Symphony, Concerto, And Choir Concerts',
      ],
    ],
  },
  {
    page: 'r_REPLACE.md',
    sql: `select catid, catgroup, replace(catgroup, 'Shows', 'Theatre') from category where catid between 5 and 9 order by 1,2,3`,
    columns: ['catid', 'catgroup', 'replace'],
    rows: [
      [5, 'Sports', 'Sports'],
      [6, 'Shows', 'Theatre'],
      [7, 'Shows', 'Theatre'],
      [8, 'Shows', 'Theatre'],
      [9, 'Concerts', 'Concerts'],
    ],
  },
  {
    page: 'r_QUOTE_IDENT.md',
    sql: 'select catid, quote_ident(catname) from category order by 1,2',
    columns: ['catid', 'quote_ident'],
    rows: CATEGORY_NAMES.map((name, index) => [index + 1, `"${name}"`]),
  },
  {
    page: 'r_QUOTE_LITERAL.md',
    sql: 'select quote_literal(catid), catname from category order by 1,2 limit 4',
    columns: ['quote_literal', 'catname'],
    rows: [
      ["'1'", 'MLB'],
      ["'10'", 'Jazz'],
      ["'11'", 'Classical'],
      ["'2'", 'NHL'],
    ],
  },
  {
    page: 'r_LEFT.md',
    sql: `select left('Chicago', 5) as left_5, right('Chicago', 5) as right_5`,
    columns: ['left_5', 'right_5'],
    rows: [['Chica', 'icago']],
  },
  one('r_LPAD.md', `select lpad('Salome', 20)`, '              Salome', 'lpad'),
  one('r_LPAD.md', `select rpad('Salome', 20, '0123456789')`, 'Salome01234567890123', 'rpad'),
  one('r_REVERSE.md', `select reverse('Aberdeen')`, 'needrebA', 'reverse'),
  {
    page: 'SPLIT_PART.md',
    setup: [
      'create table listing_sp (listtime timestamp)',
      `insert into listing_sp values ('2008-03-05 12:25:29'), ('2008-09-09 08:03:36'), ('2008-09-26 05:43:12')`,
    ],
    sql: `select listtime, split_part(listtime,'-',1) as year, split_part(listtime,'-',2) as month,
      split_part(split_part(listtime,'-',3),' ',1) as day from listing_sp`,
    columns: ['listtime', 'year', 'month', 'day'],
    rows: [
      ['2008-03-05 12:25:29', '2008', '03', '05'],
      ['2008-09-09 08:03:36', '2008', '09', '09'],
      ['2008-09-26 05:43:12', '2008', '09', '26'],
    ],
  },
  ...values('r_TO_NUMBER.md', 'to_number', [
    [`select to_number('12,454.8-', '99G999D9S')`, -12454.8],
    [`select to_number('$ 12,454.88', 'L 99G999D99')`, 12454.88],
  ]),
  ...values('REGEXP_COUNT.md', 'regexp_count', [
    [`SELECT regexp_count('abcdefghijklmnopqrstuvwxyz', '[a-z]{3}')`, 8],
    [`SELECT regexp_count('the fox', 'FOX', 1, 'i')`, 1],
    [
      `SELECT regexp_count('passwd7 plain A1234 a1234', '(?=[^ ]*[a-z])(?=[^ ]*[0-9])[^ ]+', 1, 'p')`,
      2,
    ],
    [
      `SELECT regexp_count('passwd7 plain A1234 a1234', '(?=[^ ]*[a-z])(?=[^ ]*[0-9])[^ ]+', 1, 'ip')`,
      3,
    ],
  ]),
  ...values('REGEXP_REPLACE.md', 'regexp_replace', [
    [`SELECT regexp_replace('the fox', 'FOX', 'quick brown fox', 1, 'i')`, 'the quick brown fox'],
    [
      `SELECT regexp_replace('passwd7 plain A1234 a1234', '(?=[^ ]*[a-z])(?=[^ ]*[0-9])[^ ]+', '[hidden]', 1, 'p')`,
      '[hidden] plain A1234 [hidden]',
    ],
  ]),
  own(
    'REGEXP_REPLACE.md',
    `select regexp_replace('the quick brown fox', 'o', '0')`,
    'the quick br0wn f0x',
    'regexp_replace',
  ),
  ...values('REGEXP_SUBSTR.md', 'regexp_substr', [
    [`SELECT regexp_substr('the fox', 'FOX', 1, 1, 'i')`, 'fox'],
    [
      `SELECT regexp_substr('THE SECRET CODE IS THE LOWERCASE PART OF 1931abc0EZ.', '[a-z]+', 1, 1, 'c')`,
      'abc',
    ],
    [
      `SELECT regexp_substr('passwd7 plain A1234 a1234', '(?=[^ ]*[a-z])(?=[^ ]*[0-9])[^ ]+', 1, 2, 'p')`,
      'a1234',
    ],
  ]),
  {
    page: 'r_REPEAT.md',
    sql: 'select catid, repeat(catid,3) from category order by 1,2',
    columns: ['catid', 'repeat'],
    rows: Array.from({ length: 11 }, (_, index) => [index + 1, String(index + 1).repeat(3)]),
  },
];

const mathFunctions: FidelityCase[] = [
  ...values('r_ABS.md', 'abs', [
    ['select abs (-38)', 38],
    ['select abs (14-76)', 62],
  ]),
  one('r_ACOS.md', 'select acos(-1)', Math.PI, 'acos'),
  one('r_ASIN.md', 'select asin(1)*2 as pi', Math.PI, 'pi'),
  one('r_ATAN.md', 'select atan(1) * 4 as pi', Math.PI, 'pi'),
  one('r_ATAN2.md', 'select atan2(2,2) * 4 as pi', Math.PI, 'pi'),
  one('r_ACOS.md', 'select (acos(.5) * 180/(select pi())) as degrees', 60, 'degrees'),
  one('r_ASIN.md', 'select (asin(.5) * 180/(select pi())) as degrees', 30, 'degrees'),
  one('r_ATAN.md', 'select (atan(1) * 180/(select pi())) as degrees', 45, 'degrees'),
  one('r_LN.md', 'select ln(2)', Math.LN2, 'ln'),
  one('r_ATAN2.md', 'select (atan2(1,0) * 180/(select pi())) as degrees', 90, 'degrees'),
  ...values('r_COS.md', 'cos', [
    ['select cos(0)', 1],
    ['select cos(pi())', -1],
  ]),
  one('r_COT.md', 'select cot(1)', 0.642092615934331, 'cot'),
  ...values('r_DEGREES.md', 'degrees', [
    ['select degrees(.5)', 28.6478897565412],
    ['select degrees(pi())', 180],
  ]),
  one('r_DLOG10.md', 'select dlog10(100)', 2, 'dlog10'),
  one('r_LN.md', 'select ln(2.718281828)', 0.9999999998311266, 'ln'),
  one('r_LOG.md', 'select log(100)', 2, 'log'),
  ...values('r_MOD.md', 'mod', [
    ['SELECT MOD(10, 4)', 2],
    ['SELECT MOD(10.5, 4)', 2.5],
    ['SELECT MOD(CAST(16.4 as integer), 5)', 1],
  ]),
  one('r_MOD.md', 'SELECT mod(5,2) = 0 as is_even', false, 'is_even'),
  one('r_MOD.md', 'SELECT 11 % 4 as remainder', 3, 'remainder'),
  one('r_PI.md', 'select pi()', Math.PI, 'pi'),
  one('r_RADIANS.md', 'select radians(180)', Math.PI, 'radians'),
  one('r_SIN.md', 'select sin(-pi())', -1.2246467991473532e-16, 'sin'),
  ...values('r_SQRT.md', 'sqrt', [
    ['select sqrt(16)', 4],
    [`select sqrt('16')`, 4],
    ['select sqrt(round(16.4))', 4],
  ]),
  one('r_TAN.md', 'select tan(0)', 0, 'tan'),
  one('r_CBRT.md', 'select cbrt(28.05)', 3.03839539048843, 'cbrt'),
  ...values('r_ROUND.md', 'round', [
    ['select round(28.05)', 28],
    ['select round(28.05, 1)', 28.1],
    ['select round(28.05, -1)', 30],
  ]),
  ...values('r_TRUNC.md', 'trunc', [
    ['select trunc(111.15)', 111],
    ['select trunc(111.15,1)', 111.1],
    ['select trunc(111.15,-1)', 110],
  ]),
  one('r_CEILING_FLOOR.md', 'select ceiling(28.05)', 29, 'ceiling'),
  one('r_FLOOR.md', 'select floor(28.05)', 28, 'floor'),
  one('r_SIGN.md', 'select sign(28.05)', 1, 'sign'),
  one('r_TO_HEX.md', 'select to_hex(2147676847)', '8002f2af', 'to_hex'),
  one('r_CAST_function.md', 'select cast(162.00 as integer) as pricepaid', 162, 'pricepaid'),
  one(
    'r_CAST_function.md',
    `select cast('2008-02-18 02:36:48' as date) as mysaletime`,
    '2008-02-18',
    'mysaletime',
  ),
];

const conditionalAndAggregate: FidelityCase[] = [
  {
    page: 'r_DECODE_expression.md',
    sql: `select catid, decode(catname, 'NHL', 'National Hockey League', 'MLB', 'Major League Baseball',
      'MLS', 'Major League Soccer', 'NFL', 'National Football League', 'NBA', 'National Basketball Association',
      'Unknown') from category order by catid`,
    columns: ['catid', 'case'],
    rows: [
      [1, 'Major League Baseball'],
      [2, 'National Hockey League'],
      [3, 'National Football League'],
      [4, 'National Basketball Association'],
      [5, 'Major League Soccer'],
      [6, 'Unknown'],
      [7, 'Unknown'],
      [8, 'Unknown'],
      [9, 'Unknown'],
      [10, 'Unknown'],
      [11, 'Unknown'],
    ],
  },
  {
    page: 'r_DECODE_expression.md',
    own: true,
    sql: `select decode(caldate, '2008-06-01', 'June 1st, 2008') from date where month='JUN' order by caldate limit 2`,
    columns: ['case'],
    rows: [['June 1st, 2008'], [null]],
  },
  own('r_DECODE_expression.md', 'select decode(null::int, null, 0, 1)', 0, 'case'),
  ...values(
    'r_NVL2.md',
    'case',
    [
      [`select nvl2(null::text, '2345', '1234')`, '1234'],
      [`select nvl2('x'::text, '2345', '1234')`, '2345'],
    ],
    OWN,
  ),
  ...values('r_NVL_function.md', 'coalesce', [
    ['SELECT COALESCE(NULL, 12, NULL)', 12],
    [`SELECT COALESCE(NULL, 'Amazon Redshift', NULL)`, 'Amazon Redshift'],
  ]),
  {
    page: 'r_NVL_function.md',
    sql: `SELECT COALESCE(NULL, 'Amazon Redshift', 12)`,
    error: 'invalid input syntax for',
  },
  {
    page: 'r_NVL_function.md',
    setup: [
      'create table datetable (start_date date, end_date date)',
      `insert into datetable values ('2008-06-01','2008-12-31'), (null,'2008-12-31'), ('2008-12-31',null)`,
    ],
    sql: 'select nvl(start_date, end_date) from datetable order by 1',
    columns: ['coalesce'],
    rows: [['2008-06-01'], ['2008-12-31'], ['2008-12-31']],
  },
  own('r_NVL_function.md', 'select nvl(null, null, 3)', 3, 'coalesce'),
  {
    page: 'r_NULLIF_function.md',
    setup: [
      'create table nulliftest(c1 char(2), c2 char(2))',
      `insert into nulliftest values ('a','a '), ('b','b')`,
    ],
    sql: 'select nullif(c1,c2) from nulliftest',
    columns: ['c1'],
    rows: [[null], [null]],
  },
  {
    page: 'r_CASE_function.md',
    own: true,
    sql: `select catname, case catgroup when 'Shows' then 'Theatre' else 'other' end from category where catid in (5, 6) order by catid`,
    columns: ['catname', 'case'],
    rows: [
      ['MLS', 'other'],
      ['Musicals', 'Theatre'],
    ],
  },
  one('r_GREATEST_LEAST.md', `select greatest('Lars', 'Ratliff')`, 'Ratliff', 'greatest'),
  own('r_GREATEST_LEAST.md', `select least('Lars', 'Ratliff')`, 'Lars', 'least'),
  {
    page: 'r_LISTAGG.md',
    sql: 'select listagg(sellerid) within group (order by dateid) from winsales',
    columns: ['listagg'],
    rows: [['31141242333']],
  },
  {
    page: 'r_LISTAGG.md',
    sql: `select listagg(dateid,'|') within group (order by sellerid desc,salesid asc) from winsales where buyerid = 'b'`,
    columns: ['listagg'],
    rows: [['2003-08-02|2004-04-18|2004-04-18|2004-02-12']],
  },
  {
    page: 'r_LISTAGG.md',
    sql: `select buyerid, listagg(salesid,',') within group (order by salesid) as sales_id from winsales group by buyerid order by buyerid`,
    columns: ['buyerid', 'sales_id'],
    rows: [
      ['a         ', '10005,40001,40005'],
      ['b         ', '20001,30001,30003,30004'],
      ['c         ', '10001,10006,20002,30007'],
    ],
  },
  {
    page: 'r_LISTAGG.md',
    own: true,
    sql: `select listagg(distinct sellerid, ', ') within group (order by sellerid) from winsales`,
    rows: [['1, 2, 3, 4']],
  },
  {
    page: 'r_WF_LISTAGG.md',
    own: true,
    sql: `select buyerid, listagg(salesid, ',') within group (order by salesid) over (partition by buyerid) as sales_id from winsales order by buyerid`,
    error: 'not emulated',
  },
  {
    page: 'r_MEDIAN.md',
    own: true,
    sql: 'select median(qty) from winsales',
    columns: ['median'],
    rows: [[20]],
  },
  {
    page: 'r_PERCENTILE_CONT.md',
    own: true,
    sql: 'select top 3 distinct sellerid, qty, percentile_cont(0.5) within group (order by qty), median (qty) from winsales group by sellerid, qty order by 1, 2',
    columns: ['sellerid', 'qty', 'percentile_cont', 'median'],
    rows: [
      [1, 10, 10, 10],
      [1, 30, 30, 30],
      [2, 20, 20, 20],
    ],
  },
  own(
    'r_PERCENTILE_CONT.md',
    'select percentile_cont(0.5) within group (order by qty) from winsales',
    20,
  ),
  {
    page: 'r_WF_MEDIAN.md',
    own: true,
    sql: 'select sellerid, qty, median(qty) over (partition by sellerid) as median from winsales order by sellerid',
    error: 'not emulated',
  },
  {
    page: 'r_APPROXIMATE_PERCENTILE_DISC.md',
    own: true,
    sql: 'select approximate percentile_disc(0.5) within group (order by qty) from winsales',
    columns: ['percentile_disc'],
    rows: [[20]],
  },
  ...values(
    'r_COUNT.md',
    'count',
    [
      ['select approximate count(distinct sellerid) from winsales', 4],
      ['select count(distinct buyerid) from winsales', 3],
    ],
    OWN,
  ),
  own('r_SUM.md', 'select sum(qty) from winsales', 215, 'sum'),
  own('r_AVG.md', 'select avg(qty) from winsales where sellerid = 1', 16.666666666666668, 'avg'),
  own('r_MAX.md', 'select max(qty) from winsales', 40, 'max'),
  own('r_MIN.md', 'select min(dateid) from winsales', '2003-08-02', 'min'),
  {
    page: 'r_WF_RATIO_TO_REPORT.md',
    own: true,
    sql: 'select salesid, ratio_to_report(qty) over (partition by sellerid) from winsales where sellerid = 4 order by salesid',
    columns: ['salesid', 'ratio_to_report'],
    rows: [
      [40001, 0.8],
      [40005, 0.2],
    ],
  },
];

const windowFunctions: FidelityCase[] = [
  {
    page: 'r_WF_ROW_NUMBER.md',
    sql: 'select salesid, sellerid, qty, row_number() over (partition by sellerid order by qty asc, salesid desc) as row from winsales order by 2,4 limit 3',
    columns: ['salesid', 'sellerid', 'qty', 'row'],
    rows: [
      [10006, 1, 10, 1],
      [10001, 1, 10, 2],
      [10005, 1, 30, 3],
    ],
  },
  {
    page: 'r_WF_RANK.md',
    sql: 'select salesid, qty, rank() over (order by qty) as rnk from winsales order by 2,1',
    rows: [
      [10001, 10, 1],
      [10006, 10, 1],
      [30001, 10, 1],
      [40005, 10, 1],
      [30003, 15, 5],
      [20001, 20, 6],
      [20002, 20, 6],
      [30004, 20, 6],
      [10005, 30, 9],
      [30007, 30, 9],
      [40001, 40, 11],
    ],
  },
  {
    page: 'r_WF_RANK.md',
    sql: 'select salesid, qty, rank() over (order by qty desc) as rank from winsales order by 2,1',
    rows: [
      [10001, 10, 8],
      [10006, 10, 8],
      [30001, 10, 8],
      [40005, 10, 8],
      [30003, 15, 7],
      [20001, 20, 4],
      [20002, 20, 4],
      [30004, 20, 4],
      [10005, 30, 2],
      [30007, 30, 2],
      [40001, 40, 1],
    ],
  },
  {
    page: 'r_WF_DENSE_RANK.md',
    sql: 'select salesid, qty, dense_rank() over(order by qty desc) as d_rnk, rank() over(order by qty desc) as rnk from winsales order by 2,1',
    columns: ['salesid', 'qty', 'd_rnk', 'rnk'],
    rows: [
      [10001, 10, 5, 8],
      [10006, 10, 5, 8],
      [30001, 10, 5, 8],
      [40005, 10, 5, 8],
      [30003, 15, 4, 7],
      [20001, 20, 3, 4],
      [20002, 20, 3, 4],
      [30004, 20, 3, 4],
      [10005, 30, 2, 2],
      [30007, 30, 2, 2],
      [40001, 40, 1, 1],
    ],
  },
  {
    page: 'r_WF_DENSE_RANK.md',
    sql: 'select salesid, sellerid, qty, dense_rank() over(partition by sellerid order by qty desc) as d_rnk from winsales order by 2,3,1',
    rows: [
      [10001, 1, 10, 2],
      [10006, 1, 10, 2],
      [10005, 1, 30, 1],
      [20001, 2, 20, 1],
      [20002, 2, 20, 1],
      [30001, 3, 10, 4],
      [30003, 3, 15, 3],
      [30004, 3, 20, 2],
      [30007, 3, 30, 1],
      [40005, 4, 10, 2],
      [40001, 4, 40, 1],
    ],
  },
  {
    page: 'r_WF_SUM.md',
    sql: 'select salesid, dateid, sellerid, qty, sum(qty) over (order by dateid, salesid rows unbounded preceding) as sum from winsales order by 2,1',
    rows: [
      [30001, '2003-08-02', 3, 10, 10],
      [10001, '2003-12-24', 1, 10, 20],
      [10005, '2003-12-24', 1, 30, 50],
      [40001, '2004-01-09', 4, 40, 90],
      [10006, '2004-01-18', 1, 10, 100],
      [20001, '2004-02-12', 2, 20, 120],
      [40005, '2004-02-12', 4, 10, 130],
      [20002, '2004-02-16', 2, 20, 150],
      [30003, '2004-04-18', 3, 15, 165],
      [30004, '2004-04-18', 3, 20, 185],
      [30007, '2004-09-07', 3, 30, 215],
    ],
  },
  {
    page: 'r_WF_SUM.md',
    sql: 'select salesid, sellerid, qty, sum(1) over (order by sellerid, salesid rows unbounded preceding) as rownum from winsales order by 2,1',
    rows: [
      [10001, 1, 10, 1],
      [10005, 1, 30, 2],
      [10006, 1, 10, 3],
      [20001, 2, 20, 4],
      [20002, 2, 20, 5],
      [30001, 3, 10, 6],
      [30003, 3, 15, 7],
      [30004, 3, 20, 8],
      [30007, 3, 30, 9],
      [40001, 4, 40, 10],
      [40005, 4, 10, 11],
    ],
  },
  {
    page: 'r_WF_COUNT.md',
    sql: 'select salesid, qty, qty_shipped, count(qty_shipped) over (order by salesid rows unbounded preceding) as count from winsales order by salesid',
    rows: [
      [10001, 10, 10, 1],
      [10005, 30, null, 1],
      [10006, 10, null, 1],
      [20001, 20, 20, 2],
      [20002, 20, 20, 3],
      [30001, 10, 10, 4],
      [30003, 15, null, 4],
      [30004, 20, null, 4],
      [30007, 30, null, 4],
      [40001, 40, null, 4],
      [40005, 10, 10, 5],
    ],
  },
  {
    page: 'r_SELECT_list.md',
    own: true,
    sql: 'select top 3 salesid, qty from winsales order by qty desc, salesid',
    rows: [
      [40001, 40],
      [10005, 30],
      [30007, 30],
    ],
  },
  {
    page: 'r_SELECT_list.md',
    own: true,
    sql: 'select top 2 * from (select top 5 salesid from winsales order by salesid) as firsts order by salesid desc',
    rows: [[20002], [20001]],
  },
  {
    page: 'r_QUALIFY_clause.md',
    own: true,
    sql: 'select salesid, sellerid, qty from winsales qualify row_number() over (partition by sellerid order by qty desc, salesid) = 1 order by sellerid',
    columns: ['salesid', 'sellerid', 'qty'],
    rows: [
      [10005, 1, 30],
      [20001, 2, 20],
      [30007, 3, 30],
      [40001, 4, 40],
    ],
  },
  {
    page: 'r_QUALIFY_clause.md',
    own: true,
    sql: 'select * from winsales where qty > 10 qualify rank() over (order by qty desc) <= 2 order by salesid',
    rows: [
      [10005, '2003-12-24', 1, 'a         ', 30, null],
      [30007, '2004-09-07', 3, 'c         ', 30, null],
      [40001, '2004-01-09', 4, 'a         ', 40, null],
    ],
  },
];

const jsonAndSuper: FidelityCase[] = [
  {
    page: 'IS_VALID_JSON.md',
    setup: [
      'create table test_json(id int identity(0,1), json_strings varchar)',
      `insert into test_json(json_strings) values ('{"a":2}'), ('{"a":{"b":{"c":1}}}'), ('{"a": [1,2,"b"]}')`,
      `insert into test_json(json_strings) values ('{{}}'), ('{1:"a"}'), ('[1,2,3]')`,
    ],
    sql: 'select json_strings, is_valid_json(json_strings) from test_json order by id',
    columns: ['json_strings', 'is_valid_json'],
    rows: [
      ['{"a":2}', true],
      ['{"a":{"b":{"c":1}}}', true],
      ['{"a": [1,2,"b"]}', true],
      ['{{}}', false],
      ['{1:"a"}', false],
      ['[1,2,3]', false],
    ],
  },
  {
    page: 'IS_VALID_JSON_ARRAY.md',
    setup: [
      'create table test_json_arrays(id int identity(0,1), json_arrays varchar)',
      `insert into test_json_arrays(json_arrays) values ('[]'), ('["a","b"]'), ('["a",["b",1,["c",2,3,null]]]')`,
      `insert into test_json_arrays(json_arrays) values ('{"a":1}'), ('a'), ('[1,2,]')`,
    ],
    sql: 'select json_arrays, is_valid_json_array(json_arrays) from test_json_arrays order by id',
    rows: [
      ['[]', true],
      ['["a","b"]', true],
      ['["a",["b",1,["c",2,3,null]]]', true],
      ['{"a":1}', false],
      ['a', false],
      ['[1,2,]', false],
    ],
  },
  one(
    'JSON_EXTRACT_ARRAY_ELEMENT_TEXT.md',
    `select json_extract_array_element_text('[111,112,113]', 2)`,
    '113',
    'json_extract_array_element_text',
  ),
  {
    page: 'JSON_EXTRACT_ARRAY_ELEMENT_TEXT.md',
    sql: `select json_extract_array_element_text('["a",["b",1,["c",2,3,null,]]]',1)`,
    error: 'JSON parsing error',
  },
  one(
    'JSON_EXTRACT_ARRAY_ELEMENT_TEXT.md',
    `select json_extract_array_element_text('["a",["b",1,["c",2,3,null,]]]',1,true)`,
    null,
  ),
  one(
    'JSON_EXTRACT_PATH_TEXT.md',
    `select json_extract_path_text('{"f2":{"f3":1},"f4":{"f5":99,"f6":"star"}}','f4', 'f6')`,
    'star',
    'json_extract_path_text',
  ),
  {
    page: 'JSON_EXTRACT_PATH_TEXT.md',
    sql: `select json_extract_path_text('{"f2":{"f3":1},"f4":{"f5":99,"f6":"star"}','f4', 'f6')`,
    error: 'JSON parsing error',
  },
  ...values('JSON_EXTRACT_PATH_TEXT.md', undefined, [
    [
      `select json_extract_path_text('{"f2":{"f3":1},"f4":{"f5":99,"f6":"star"}','f4', 'f6',true)`,
      null,
    ],
    [
      `select json_extract_path_text('{"farm": {"barn": {"color": "red", "feed stocked": true}}}', 'farm', 'barn', 'color')`,
      'red',
    ],
    [`select json_extract_path_text('{"farm": {"barn": {}}}', 'farm', 'barn', 'color')`, ''],
  ]),
  one(
    'JSON_ARRAY_LENGTH.md',
    `select json_array_length('[11,12,13,{"f1":21,"f2":[25,26]},14]')`,
    5,
    'json_array_length',
  ),
  one(
    'JSON_PARSE.md',
    `SELECT JSON_PARSE('[10001,10002,"abc"]')`,
    '[10001,10002,"abc"]',
    'json_parse',
  ),
  one(
    'JSON_PARSE.md',
    `SELECT JSON_TYPEOF(JSON_PARSE('[10001,10002,"abc"]'))`,
    'array',
    'json_typeof',
  ),
  one(
    'JSON_SERIALIZE.md',
    `SELECT JSON_SERIALIZE(JSON_PARSE('[10001,10002,"abc"]'))`,
    '[10001,10002,"abc"]',
    'json_serialize',
  ),
  one('r_json_size.md', `SELECT JSON_SIZE(JSON_PARSE('[10001,10002,"⬤"]'))`, 19, 'json_size'),
  one('CAN_JSON_PARSE.md', `SELECT CAN_JSON_PARSE('[10001,10002,"abc"]')`, true, 'can_json_parse'),
  one('r_is_array.md', `SELECT is_array(JSON_PARSE('[1,2]'))`, true, 'is_array'),
  {
    page: 'query-super.md',
    own: true,
    setup: [
      'create table customer_orders (c_custkey int, c_orders super)',
      `insert into customer_orders values (1, json_parse('[{"o_orderkey": 7, "o_totalprice": 10.5}]'))`,
    ],
    sql: 'select c.c_orders[0], c.c_orders[0].o_orderkey from customer_orders c',
    rows: [['{"o_orderkey":7,"o_totalprice":10.5}', '7']],
  },
  {
    page: 'query-super.md',
    own: true,
    setup: [
      'create table customer_orders_unnest (c_custkey int, c_orders super)',
      `insert into customer_orders_unnest values (1, json_parse('[{"o_orderkey": 7}, {"o_orderkey": 8}]'))`,
    ],
    sql: 'select o.o_orderkey from customer_orders_unnest c, c.c_orders o',
    error: 'not emulated',
  },
];

const ddlAndDml: FidelityCase[] = [
  {
    page: 'r_CREATE_TABLE_examples.md',
    own: true,
    setup: [
      `create table sales_dk (salesid integer not null, listid integer not null distkey,
         sellerid integer not null, qtysold smallint not null encode mostly8,
         pricepaid decimal(8,2) encode delta32k, saletime timestamp)
       sortkey (listid, sellerid)`,
    ],
    sql: `select "column", type, encoding, distkey, sortkey from pg_table_def where tablename = 'sales_dk' order by sortkey desc, "column" limit 3`,
    columns: ['column', 'type', 'encoding', 'distkey', 'sortkey'],
    rows: [
      ['sellerid', 'integer', 'none', false, 2],
      ['listid', 'integer', 'none', true, 1],
      ['pricepaid', 'numeric(8,2)', 'delta32k', false, 0],
    ],
  },
  {
    page: 'r_CREATE_TABLE_examples.md',
    own: true,
    setup: [
      'create table venue_ident(venueid bigint identity(0, 1), venuename varchar(100), venuecity varchar(30))',
      `insert into venue_ident(venuename, venuecity) values ('Arena', 'Austin'), ('Hall', 'Boston')`,
    ],
    sql: 'select venueid, venuename from venue_ident order by venueid',
    rows: [
      [0, 'Arena'],
      [1, 'Hall'],
    ],
  },
  {
    page: 'r_CREATE_TABLE_examples.md',
    own: true,
    setup: ['create table venue_ident_x (venueid bigint identity(0, 1), venuename varchar(100))'],
    sql: `insert into venue_ident_x (venueid, venuename) values (5, 'Arena')`,
    error: 'cannot set an identity column to a value',
  },
  {
    page: 'r_CREATE_TABLE_examples.md',
    own: true,
    setup: [
      'create table category_ident (catid int generated by default as identity(1, 1), catname varchar(10))',
      `insert into category_ident (catname) values ('a')`,
      `insert into category_ident (catid, catname) values (100, 'b')`,
    ],
    sql: 'select catid, catname from category_ident order by catid',
    rows: [
      [1, 'a'],
      [100, 'b'],
    ],
  },
  {
    page: 'r_CREATE_TABLE_examples.md',
    own: true,
    setup: [
      'create table t_diststyle_all (c1 int, c2 varchar(max)) diststyle all',
      `insert into t_diststyle_all values (1, 'x')`,
    ],
    sql: `select "table", diststyle from svv_table_info where "table" = 't_diststyle_all'`,
    columns: ['table', 'diststyle'],
    rows: [['t_diststyle_all', 'ALL']],
  },
  {
    page: 'r_CREATE_TABLE_examples.md',
    own: true,
    setup: [
      'create table t_distkey (c1 int encode az64, c2 char(10) encode bytedict) diststyle key distkey(c1) compound sortkey(c2, c1)',
      `insert into t_distkey values (1, 'x')`,
    ],
    sql: `select "table", encoded, diststyle, sortkey1, sortkey_num, tbl_rows from svv_table_info where "table" = 't_distkey'`,
    rows: [['t_distkey', 'Y', 'KEY(c1)', 'c2', 2, 1]],
  },
  {
    page: 'r_CREATE_TABLE_examples.md',
    own: true,
    setup: ['create table t_varchar_max (c1 varchar(max), c2 varchar, c3 decimal, c4 text)'],
    sql: `select "column", type from pg_table_def where tablename = 't_varchar_max' order by "column"`,
    rows: [
      ['c1', 'character varying(65535)'],
      ['c2', 'character varying(256)'],
      ['c3', 'numeric(18,0)'],
      ['c4', 'character varying(256)'],
    ],
  },
  {
    page: 'r_CREATE_TABLE_AS.md',
    own: true,
    setup: [
      'create table winsales_ctas distkey(sellerid) sortkey(salesid) as select salesid, sellerid from winsales',
    ],
    sql: `select "column", distkey, sortkey from pg_table_def where tablename = 'winsales_ctas' order by "column"`,
    rows: [
      ['salesid', false, 1],
      ['sellerid', true, 0],
    ],
  },
  {
    page: 'r_CREATE_TABLE_AS.md',
    own: true,
    setup: [
      'create table winsales_ctas2 diststyle even as select salesid, qty from winsales where qty > 20',
    ],
    sql: 'select count(*) from winsales_ctas2',
    rows: [[3]],
  },
  {
    page: 'r_PG_TABLE_DEF.md',
    setup: [
      `create table lineorder_interleaved (lo_orderkey integer not null, lo_custkey integer not null,
         lo_partkey integer not null distkey, lo_suppkey integer not null, lo_orderdate integer not null)
       interleaved sortkey (lo_orderkey, lo_custkey, lo_partkey, lo_suppkey, lo_orderdate)`,
    ],
    sql: `select "column", distkey, sortkey, "notnull" from pg_table_def where tablename = 'lineorder_interleaved' and sortkey <> 0 order by abs(sortkey)`,
    rows: [
      ['lo_orderkey', false, -1, true],
      ['lo_custkey', false, 2, true],
      ['lo_partkey', true, -3, true],
      ['lo_suppkey', false, 4, true],
      ['lo_orderdate', false, -5, true],
    ],
  },
  {
    page: 'r_PG_TABLE_DEF.md',
    setup: ['create schema demo', 'create table demo.demotable (one int)'],
    sql: `select * from pg_table_def where tablename = 'demotable'`,
    rows: [],
  },
  {
    page: 'r_PG_TABLE_DEF.md',
    setup: [
      'create schema demo2',
      'create table demo2.demotable2 (one int)',
      `set search_path to '$user', 'public', 'demo2'`,
    ],
    sql: `select * from pg_table_def where tablename = 'demotable2'`,
    columns: [
      'schemaname',
      'tablename',
      'column',
      'type',
      'encoding',
      'distkey',
      'sortkey',
      'notnull',
    ],
    rows: [['demo2', 'demotable2', 'one', 'integer', 'az64', false, 0, false]],
  },
  {
    page: 'r_SVV_COLUMNS.md',
    own: true,
    setup: ['create table svv_columns_demo (a int not null, b varchar(20))'],
    sql: `select table_name, column_name, ordinal_position, is_nullable, data_type, character_maximum_length from svv_columns where table_name = 'svv_columns_demo' order by ordinal_position`,
    rows: [
      ['svv_columns_demo', 'a', 1, 'NO', 'integer', null],
      ['svv_columns_demo', 'b', 2, 'YES', 'character varying', 20],
    ],
  },
  {
    page: 'r_SVV_TABLES.md',
    own: true,
    setup: ['create table svv_tables_demo (a int)'],
    sql: `select table_catalog, table_schema, table_name, table_type from svv_tables where table_name = 'svv_tables_demo'`,
    rows: [['dev', 'public', 'svv_tables_demo', 'BASE TABLE']],
  },
  own('r_STV_SESSIONS.md', 'select count(*) > 0 from stv_sessions', true),
  {
    page: 'r_MERGE.md',
    setup: [
      'CREATE TABLE target (id INT, name CHAR(10))',
      'CREATE TABLE source (id INT, name CHAR(10))',
      `INSERT INTO target VALUES (101, 'Bob'), (102, 'John'), (103, 'Susan')`,
      `INSERT INTO source VALUES (102, 'Tony'), (103, 'Alice'), (104, 'Bill')`,
      `MERGE INTO target USING source ON target.id = source.id
       WHEN MATCHED THEN UPDATE SET id = source.id, name = source.name
       WHEN NOT MATCHED THEN INSERT VALUES (source.id, source.name)`,
    ],
    sql: 'SELECT * FROM target order by id',
    rows: [
      [101, 'Bob       '],
      [102, 'Tony      '],
      [103, 'Alice     '],
      [104, 'Bill      '],
    ],
  },
  {
    page: 'r_MERGE.md',
    setup: [
      'CREATE TABLE target2 (id INT, name CHAR(10))',
      'CREATE TABLE source2 (id INT, name CHAR(10))',
      `INSERT INTO target2 VALUES (101, 'Bob'), (102, 'Tony'), (103, 'Alice'), (104, 'Bill')`,
      `INSERT INTO source2 VALUES (102, 'Tony'), (103, 'Alice'), (104, 'Bill'), (105, 'David')`,
      `MERGE INTO target2 USING source2 ON target2.id = source2.id
       WHEN MATCHED THEN DELETE WHEN NOT MATCHED THEN INSERT VALUES (source2.id, source2.name)`,
    ],
    sql: 'SELECT * FROM target2 order by id',
    rows: [
      [101, 'Bob       '],
      [105, 'David     '],
    ],
  },
  {
    page: 'r_MERGE.md',
    own: true,
    setup: [
      'CREATE TABLE target3 (id INT, name CHAR(10))',
      'CREATE TABLE source3 (id INT, name CHAR(10))',
      `INSERT INTO target3 VALUES (101, 'Bob'), (102, 'John'), (102, 'Johnny'), (103, 'Susan')`,
      `INSERT INTO source3 VALUES (102, 'Tony'), (103, 'Alice'), (104, 'Bill')`,
      'MERGE INTO target3 USING source3 ON target3.id = source3.id REMOVE DUPLICATES',
    ],
    sql: 'SELECT * FROM target3 order by id',
    rows: [
      [101, 'Bob       '],
      [102, 'Tony      '],
      [103, 'Alice     '],
      [104, 'Bill      '],
    ],
  },
  {
    page: 'r_INSERT_30.md',
    own: true,
    setup: [
      'create table category_stage (like category)',
      `insert into category_stage values (12, 'Concerts', 'Comedy', 'All stand-up comedy performances')`,
    ],
    sql: 'select * from category_stage',
    rows: [[12, 'Concerts', 'Comedy', 'All stand-up comedy performances']],
  },
  {
    page: 'r_INSERT_30.md',
    own: true,
    setup: [
      'create table category_stage2 (catid smallint default 0, catgroup varchar(10), catname varchar(10) default 0, catdesc varchar(50))',
      `insert into category_stage2 values (default, default, default, default)`,
    ],
    sql: 'select * from category_stage2',
    rows: [[0, null, '0', null]],
  },
  {
    page: 'r_UPDATE.md',
    own: true,
    setup: [
      'create table category_upd as select * from category',
      `update category_upd set catgroup='Theatre' where catid between 6 and 8`,
    ],
    sql: 'select catid, catgroup from category_upd where catid between 5 and 9 order by catid',
    rows: [
      [5, 'Sports'],
      [6, 'Theatre'],
      [7, 'Theatre'],
      [8, 'Theatre'],
      [9, 'Concerts'],
    ],
  },
  {
    page: 'r_DELETE.md',
    own: true,
    setup: [
      'create table category_del as select * from category',
      'delete from category_del where catid between 0 and 9',
    ],
    sql: 'select catid, catname from category_del order by catid',
    rows: [
      [10, 'Jazz'],
      [11, 'Classical'],
    ],
  },
  {
    page: 'r_TRUNCATE.md',
    own: true,
    setup: ['create table category_trunc as select * from category', 'truncate category_trunc'],
    sql: 'select count(*) from category_trunc',
    rows: [[0]],
  },
  own(
    'r_WITH_clause.md',
    `with venue_copy as (select * from category) select count(*) from venue_copy where catgroup = 'Sports'`,
    5,
  ),
  {
    page: 'r_UNION.md',
    own: true,
    sql: 'select 1 as revenue union select 2 order by revenue',
    rows: [[1], [2]],
  },
  {
    page: 'r_FROM_clause.md',
    own: true,
    sql: 'select * from (select 1)',
    error: 'subquery in FROM must have an alias',
  },
];

const sessionAndSystem: FidelityCase[] = [
  own('r_CURRENT_DATABASE.md', 'select current_database()', 'dev', 'current_database'),
  one('r_CURRENT_SCHEMA.md', 'select current_schema()', 'public', 'current_schema'),
  one('r_CURRENT_SCHEMAS.md', 'select current_schemas(false)', '{public}', 'current_schemas'),
  one('r_SHOW.md', 'show search_path', '$user, public', 'search_path'),
  one('r_SHOW.md', 'show query_group', 'unset', 'query_group'),
  {
    page: 'r_SET.md',
    setup: [`set query_group to 'Monday'`],
    sql: 'show query_group',
    rows: [['Monday']],
  },
  {
    own: true,
    page: 'r_SET.md',
    sql: 'set enable_result_cache_for_session to off',
    rows: undefined,
  },
  {
    own: true,
    page: 'r_RESET.md',
    setup: [`set query_group to 'Monday'`, 'reset query_group'],
    sql: 'show query_group',
    rows: [['unset']],
  },
  one(
    'r_VERSION.md',
    'select version() like $$PostgreSQL 8.0.2 on i686-pc-linux-gnu, compiled by GCC gcc (GCC) 3.4.2 20041017 (Red Hat 3.4.2-6.fc3), Redshift 1.0.%$$',
    true,
  ),
  own('r_CURRENT_DATE_function.md', 'select current_date = trunc(getdate())', true),
  own('r_TIMEOFDAY_function.md', 'select length(timeofday()) > 20', true),
  own('r_PG_BACKEND_PID.md', 'select pg_backend_pid() > 0', true),
];

const implicitCasts: FidelityCase[] = [
  {
    page: 'r_DATE_TRUNC.md',
    own: true,
    sql: `select date_trunc('week', saletime), count(*) from (select timestamp '2008-09-03 10:00:00' as saletime union all select timestamp '2008-10-01 10:00:00') s where saletime like '2008-09%' group by 1`,
    rows: [['2008-09-01 00:00:00', 1]],
  },
  one('r_REPEAT.md', 'select repeat(catid, 2) from category where catid = 3', '33', 'repeat'),
  own(
    'r_LTRIM.md',
    `select ltrim(timestamp '2008-01-24 06:43:29', '2008-')`,
    '1-24 06:43:29',
    'ltrim',
  ),
];

/** A documented example the local stack does not emulate, whose result is one value. */
const notEmulated = (page: string, sql: string, value: Value, column?: string): FidelityCase => ({
  ...one(page, sql, value, column),
  ...NOT_EMULATED,
});

const notEmulatedHere: FidelityCase[] = [
  ...values(
    'r_FNV_HASH.md',
    'fnv_hash',
    [
      ['select fnv_hash(1)', '-5968735742475085980'],
      [`select fnv_hash('Amazon Redshift')`, '7783490368944507294'],
      [`select fnv_hash('Amazon Redshift', fnv_hash(1))`, '-2202602717770968555'],
    ],
    NOT_EMULATED,
  ),
  notEmulated(
    'r_FARMFINGERPRINT64.md',
    `SELECT farmFingerprint64('Amazon Redshift')`,
    '8085098817162212970',
    'farmfingerprint64',
  ),
  notEmulated('r_FROM_HEX.md', `select from_hex('6162')`, '6162', 'from_hex'),
  ...values(
    'r_TO_VARBYTE.md',
    'to_varbyte',
    [
      [`select to_varbyte('6162', 'hex')`, '6162'],
      [`select to_varbyte('01001101', 'binary')`, '4d'],
      [`select to_varbyte('a', 'utf8')`, '61'],
    ],
    NOT_EMULATED,
  ),
  notEmulated('r_GETBIT.md', `select getbit(from_hex('4d'), 2)`, 1, 'getbit'),
  ...values(
    'r_TEXT_TO_INT_ALT.md',
    'text_to_int_alt',
    [
      [`select text_to_int_alt('123-')`, -123],
      [`select text_to_int_alt('2147483647+')`, 2147483647],
      [`select text_to_int_alt('-123E-2')`, -1],
    ],
    NOT_EMULATED,
  ),
  notEmulated('r_TO_HEX.md', `select to_hex('abc'::varbyte)`, '616263', 'to_hex'),
  notEmulated('r_LEN.md', `select len('aaa'::varbyte)`, 3, 'len'),
  {
    page: 'CONVERT_TIMEZONE.md',
    sql: `SELECT CONVERT_TIMEZONE('GMT','NEWZONE +2','2014-05-17 12:00:00') as newzone_plus_2,
      CONVERT_TIMEZONE('GMT','NEWZONE-2:15','2014-05-17 12:00:00') as newzone_minus_2_15,
      CONVERT_TIMEZONE('GMT','America/Los_Angeles+2','2014-05-17 12:00:00') as la_plus_2,
      CONVERT_TIMEZONE('GMT','GMT+2','2014-05-17 12:00:00') as gmt_plus_2`,
    rows: [
      ['2014-05-17 10:00:00', '2014-05-17 14:15:00', '2014-05-17 10:00:00', '2014-05-17 10:00:00'],
    ],
  },
];

const conversions: FidelityCase[] = [
  { page: 'r_CAST_function.md', sql: 'select 123.456::decimal(2,1)', error: 'overflow' },
  { page: 'r_CAST_function.md', sql: 'select 12345678::smallint', error: 'out of range' },
  {
    page: 'r_CONVERT_function.md',
    sql: 'SELECT CONVERT(decimal(2,1), 123.456)',
    error: 'overflow',
  },
  {
    page: 'r_CONVERT_function.md',
    sql: 'SELECT CONVERT(smallint, 12345678)',
    error: 'out of range',
  },
  {
    page: 'r_CONVERT_function.md',
    sql: 'SELECT CONVERT(VARCHAR(30), GETDATE())',
    columns: ['getdate'],
  },
  one(
    'r_CONVERT_function.md',
    `SELECT CONVERT(datetime, '2008-02-18 02:36:48') as mysaletime`,
    '2008-02-18 02:36:48',
    'mysaletime',
  ),
  one('r_CONVERT_function.md', 'SELECT CONVERT(char(4), 2008)', '2008', 'bpchar'),
];

export const FIDELITY_CASES: FidelityCase[] = [
  ...dateFunctions,
  ...stringFunctions,
  ...mathFunctions,
  ...conditionalAndAggregate,
  ...windowFunctions,
  ...jsonAndSuper,
  ...sessionAndSystem,
  ...ddlAndDml,
  ...implicitCasts,
  ...conversions,
  ...notEmulatedHere,
];
