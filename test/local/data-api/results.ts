import { randomUUID } from 'node:crypto';
import {
  type Field,
  GetStatementResultCommand,
  GetStatementResultV2Command,
} from '@aws-sdk/client-redshift-data';
import { describe, expect, it } from 'vitest';
import { DataApi } from '../../../functions/common/data-api.ts';
import { realClock } from '../../../local/clock.ts';
import { type DataApiSuite, fieldValue, startDataApiStack } from './context.ts';

/** Results: the JSON and CSV result operations, their types, metadata and pages. */
export function describeResults(suite: DataApiSuite): void {
  const { submit, ended, validationMessage, run } = suite;

  describe('Operation: GetStatementResult', () => {
    it('returns each type as the Field member Redshift uses, with Redshift type names', async () => {
      // Prepare: a column of each type, the Field it comes back in and the type name Redshift gives
      const columns: [sql: string, field: Field, typeName: string][] = [
        ['1::int2', { longValue: 1 }, 'int2'],
        ['2::int4', { longValue: 2 }, 'int4'],
        ['9007199254740991::int8', { longValue: 9007199254740991 }, 'int8'],
        ['1.5::float4', { doubleValue: 1.5 }, 'float4'],
        ['2.25::float8', { doubleValue: 2.25 }, 'float8'],
        ['12.34::numeric(5,2)', { stringValue: '12.34' }, 'numeric'],
        ['true', { booleanValue: true }, 'bool'],
        ['false', { booleanValue: false }, 'bool'],
        ['null::int', { isNull: true }, 'int4'],
        ["'text'::text", { stringValue: 'text' }, 'varchar'],
        ["'v'::varchar(5)", { stringValue: 'v' }, 'varchar'],
        ["'c'::char(3)", { stringValue: 'c  ' }, 'bpchar'],
        ["date '2008-01-01'", { stringValue: '2008-01-01' }, 'date'],
        ["timestamp '2008-01-01 10:11:12'", { stringValue: '2008-01-01 10:11:12' }, 'timestamp'],
        [
          "timestamptz '2008-01-01 10:11:12+00'",
          { stringValue: '2008-01-01 10:11:12+00' },
          'timestamptz',
        ],
        ["time '10:11:12'", { stringValue: '10:11:12' }, 'time'],
      ];

      // Act
      const id = await submit({
        Sql: `select ${columns.map(([sql], index) => `${sql} as c${index}`).join(', ')}`,
      });
      await ended(id);
      const result = await suite.client.send(new GetStatementResultCommand({ Id: id }));

      // Assess
      expect(result.Records).toEqual([columns.map(([, field]) => field)]);
      expect(result.ColumnMetadata?.map((column) => column.typeName)).toEqual(
        columns.map(([, , typeName]) => typeName),
      );
      expect(result.TotalNumRows).toBe(1);
      expect(result.NextToken).toBeUndefined();
    });

    it('writes every int8 digit on the wire, as the service does, and Spectra reads them all', async () => {
      // Act
      const id = await submit({
        Sql: `select 9007199254740993::int8 as above, 12345678901234567::int8 as big,
                9223372036854775807::int8 as max, (-9223372036854775807 - 1)::int8 as min,
                9007199254740991::int8 as safe, 1234567890123456789012345678.0123456789::numeric(38,10) as num`,
      });
      await ended(id);
      const page = await new DataApi(suite.client).resultPage(id, undefined);

      // Assess: the digits as the engine computed them, not the nearest double
      expect(page.records).toEqual([
        [
          { longValue: '9007199254740993' },
          { longValue: '12345678901234567' },
          { longValue: '9223372036854775807' },
          { longValue: '-9223372036854775808' },
          { longValue: '9007199254740991' },
          { stringValue: '1234567890123456789012345678.0123456789' },
        ],
      ]);
    });

    it('describes table columns with their schema, table, nullability, precision and scale', async () => {
      // Act
      const id = await submit({
        Sql: 'select salesid, pricepaid, tenant_id, saletime, salesid + 1 as next from sales limit 1',
      });
      await ended(id);
      const result = await suite.client.send(new GetStatementResultCommand({ Id: id }));

      // Assess
      expect(result.ColumnMetadata).toEqual([
        {
          name: 'salesid',
          label: 'salesid',
          typeName: 'int4',
          schemaName: 'public',
          tableName: 'sales',
          nullable: 0,
          precision: 10,
          scale: 0,
          isSigned: true,
          isCaseSensitive: false,
          isCurrency: false,
          length: 0,
        },
        {
          name: 'pricepaid',
          label: 'pricepaid',
          typeName: 'numeric',
          schemaName: 'public',
          tableName: 'sales',
          nullable: 1,
          precision: 8,
          scale: 2,
          isSigned: true,
          isCaseSensitive: false,
          isCurrency: false,
          length: 0,
        },
        {
          name: 'tenant_id',
          label: 'tenant_id',
          typeName: 'varchar',
          schemaName: 'public',
          tableName: 'sales',
          nullable: 0,
          precision: 64,
          scale: 0,
          isSigned: false,
          isCaseSensitive: true,
          isCurrency: false,
          length: 0,
        },
        {
          name: 'saletime',
          label: 'saletime',
          typeName: 'timestamp',
          schemaName: 'public',
          tableName: 'sales',
          nullable: 1,
          precision: 29,
          scale: 6,
          isSigned: false,
          isCaseSensitive: false,
          isCurrency: false,
          length: 0,
        },
        {
          name: 'next',
          label: 'next',
          typeName: 'int4',
          schemaName: '',
          tableName: '',
          nullable: 1,
          precision: 10,
          scale: 0,
          isSigned: true,
          isCaseSensitive: false,
          isCurrency: false,
          length: 0,
        },
      ]);
    });

    it("runs Redshift's SQL with named parameters, and gives Redshift's types and column names", async () => {
      // Act
      const rows = await suite.query(
        `select top 1 dateadd(day, :days, caldate), extract(ms from timestamp '2009-09-09 12:08:43.101'),
           decode(catname, :short, 'National Hockey League', 'other')
         from date cross join category where catname = :short order by caldate`,
        {
          Parameters: [
            { name: 'days', value: '30' },
            { name: 'short', value: 'NHL' },
          ],
        },
      );
      const id = await submit({
        Sql: `select extract(ms from timestamp '2009-09-09 12:08:43.101')`,
      });
      await ended(id);
      const result = await suite.client.send(new GetStatementResultCommand({ Id: id }));

      // Assess
      expect(rows).toEqual([['2008-01-31 00:00:00', 101, 'National Hockey League']]);
      expect(result.Records).toEqual([[{ longValue: 101 }]]);
      expect(result.ColumnMetadata?.map((column) => [column.name, column.typeName])).toEqual([
        ['date_part', 'int4'],
      ]);
    });

    it('pages the rows by NextToken, with the total on every page', async () => {
      // Prepare
      const id = await submit({ Sql: 'select userid from users order by userid' });
      await ended(id);

      // Act
      const pages = [];
      let nextToken: string | undefined;
      do {
        const page = await suite.client.send(
          new GetStatementResultCommand({ Id: id, NextToken: nextToken }),
        );
        pages.push(page);
        nextToken = page.NextToken;
      } while (nextToken);

      // Assess: 1000 rows in pages of 250 (the stack's resultPageRows).
      expect(pages.map((page) => page.Records?.length)).toEqual([250, 250, 250, 250]);
      expect(pages.map((page) => page.TotalNumRows)).toEqual([1000, 1000, 1000, 1000]);
      const ids = pages.flatMap((page) =>
        (page.Records ?? []).map((record) => fieldValue(record[0] as Field)),
      );
      expect(ids).toEqual(Array.from({ length: 1000 }, (_, index) => index + 1));
    });

    it('waits for the statement with WaitTimeSeconds', async () => {
      // Prepare: the statement is held until the call waits for it, which the stack's clock tells
      let waitStarted = () => {};
      const waiting = new Promise<void>((resolve) => {
        waitStarted = resolve;
      });
      const own = await startDataApiStack(suite.engine, {
        loadDemoData: false,
        clock: {
          ...realClock,
          sleep(ms, signal) {
            waitStarted();
            return realClock.sleep(ms, signal);
          },
        },
      });
      try {
        const marker = `hold-${randomUUID()}`;
        own.emulator.controls.holdStatements(marker);
        const { Id } = await suite.execute({ Sql: `select 7 as seven -- ${marker}` }, own.client);

        // Act
        const waited = own.client.send(new GetStatementResultCommand({ Id, WaitTimeSeconds: 20 }));
        await waiting;
        own.emulator.controls.releaseStatements(marker);
        const result = await waited;

        // Assess
        expect(result.Records?.map((record) => record.map(fieldValue))).toEqual([[7]]);
      } finally {
        await own.close();
      }
    });

    it.each([
      [
        'a statement without a result set',
        'create table IF NOT EXISTS %s_nores (x int)',
        /^Query does not have result\. Please check query status with DescribeStatement\.$/,
      ],
      [
        'a failed statement',
        'select * from nope',
        /^Query does not have result\. The statement is FAILED/,
      ],
    ])('throws ValidationException for %s', async (_case, sql, expected) => {
      // Prepare
      const id = await submit({ Sql: sql.replace('%s', run) });
      await ended(id);

      // Act
      const message = await validationMessage(
        suite.client.send(new GetStatementResultCommand({ Id: id })),
      );

      // Assess
      expect(message).toMatch(expected);
    });

    it('throws ValidationException for a NextToken it did not give', async () => {
      // Prepare
      const id = await submit({ Sql: 'select 1' });
      await ended(id);

      // Act
      const message = await validationMessage(
        suite.client.send(new GetStatementResultCommand({ Id: id, NextToken: 'garbage' })),
      );

      // Assess
      expect(message).toBe('The NextToken is not valid for this request.');
    });

    it('throws ValidationException for a statement run with ResultFormat CSV', async () => {
      // Prepare
      const id = await submit({ Sql: 'select 1', ResultFormat: 'CSV' });
      await ended(id);

      // Act
      const message = await validationMessage(
        suite.client.send(new GetStatementResultCommand({ Id: id })),
      );

      // Assess
      expect(message).toBe(
        'The statement was run with ResultFormat CSV; read its result with GetStatementResultV2.',
      );
    });
  });

  describe('Operation: GetStatementResultV2', () => {
    it('returns CSV records with a header row, quoting what needs quotes and NULL as empty', async () => {
      // Prepare
      const id = await submit({
        Sql: `select 1 as id, 'a,b' as commas, 'say "hi"' as quotes, null as missing, '' as empty`,
        ResultFormat: 'CSV',
      });
      await ended(id);

      // Act
      const result = await suite.client.send(new GetStatementResultV2Command({ Id: id }));

      // Assess
      expect(result.Records).toEqual([
        { CSVRecords: 'id,commas,quotes,missing,empty\n1,"a,b","say ""hi""",,""\n' },
      ]);
      expect(result.ResultFormat).toBe('CSV');
      expect(result.TotalNumRows).toBe(1);
      expect(result.ColumnMetadata?.map((column) => column.name)).toEqual([
        'id',
        'commas',
        'quotes',
        'missing',
        'empty',
      ]);
    });

    it('pages CSV records, with the header on the first page only', async () => {
      // Prepare
      const id = await submit({
        Sql: 'select userid from users where userid <= 300 order by userid',
        ResultFormat: 'CSV',
      });
      await ended(id);

      // Act
      const first = await suite.client.send(new GetStatementResultV2Command({ Id: id }));
      const second = await suite.client.send(
        new GetStatementResultV2Command({ Id: id, NextToken: first.NextToken }),
      );

      // Assess
      const firstLines = (first.Records?.[0]?.CSVRecords ?? '').trimEnd().split('\n');
      const secondLines = (second.Records?.[0]?.CSVRecords ?? '').trimEnd().split('\n');
      expect(firstLines).toEqual(['userid', ...Array.from({ length: 250 }, (_, i) => `${i + 1}`)]);
      expect(secondLines).toEqual(Array.from({ length: 50 }, (_, i) => `${i + 251}`));
      expect(second.NextToken).toBeUndefined();
    });

    it('throws ValidationException for a statement run with ResultFormat JSON', async () => {
      // Prepare
      const id = await submit({ Sql: 'select 1' });
      await ended(id);

      // Act
      const message = await validationMessage(
        suite.client.send(new GetStatementResultV2Command({ Id: id })),
      );

      // Assess
      expect(message).toBe(
        'The statement was run with ResultFormat JSON; read its result with GetStatementResult.',
      );
    });
  });
}
