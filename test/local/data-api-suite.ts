import { randomUUID } from 'node:crypto';
import {
  ActiveSessionsExceededException,
  BatchExecuteStatementCommand,
  type BatchExecuteStatementCommandInput,
  CancelStatementCommand,
  DescribeStatementCommand,
  type DescribeStatementResponse,
  DescribeTableCommand,
  ExecuteStatementCommand,
  type ExecuteStatementCommandInput,
  type Field,
  GetStatementResultCommand,
  GetStatementResultV2Command,
  ListDatabasesCommand,
  ListSchemasCommand,
  ListSessionsCommand,
  ListStatementsCommand,
  ListTablesCommand,
  RedshiftDataClient,
  ResourceNotFoundException,
  ValidationException,
} from '@aws-sdk/client-redshift-data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Endpoint, startEndpoint } from '../../local/endpoint.ts';
import {
  DEMO_TABLES,
  DEMO_TENANTS,
  demoTenantUsers,
  loadDemoData,
} from '../../local/redshift-data/demo-data.ts';
import {
  createRedshiftDataEmulator,
  type RedshiftDataEmulator,
  type RedshiftDataEmulatorOptions,
} from '../../local/redshift-data/emulator.ts';
import type { SqlEngine } from '../../local/redshift-data/sql-engine.ts';

/**
 * The Redshift Data API emulator as a user of the AWS SDK sees it, whatever engine runs the SQL:
 * the real `RedshiftDataClient` over HTTP against the local endpoint. Engine-specific behaviour
 * (temporary-table isolation between sessions, a cancel that really stops PostgreSQL) belongs in
 * the engine's own test file, which calls this suite too.
 */

/** A demo tenant's database user, as the emulator creates it at start. */
export function demoUserOf(tenantId: string): string {
  const user = demoTenantUsers().find((each) => each.tenantId === tenantId);
  if (!user) throw new Error(`${tenantId} is no demo tenant`);
  return user.dbUser;
}

/** Where every statement in the suite runs unless a test says otherwise. */
export const CONNECTION = {
  ClusterIdentifier: 'spectra-local',
  Database: 'dev',
  DbUser: demoUserOf('acme'),
};

export interface DataApiStack {
  emulator: RedshiftDataEmulator;
  endpoint: Endpoint;
  client: RedshiftDataClient;
  close(): Promise<void>;
}

/** An emulator behind its own endpoint, with an SDK client pointed at it. */
export async function startDataApiStack(
  engine: SqlEngine,
  options: Omit<RedshiftDataEmulatorOptions, 'engine'> = {},
): Promise<DataApiStack> {
  const emulator = await createRedshiftDataEmulator({ engine, ...options });
  const endpoint = await startEndpoint({ port: 0, services: [emulator] });
  const client = new RedshiftDataClient({
    endpoint: endpoint.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  return {
    emulator,
    endpoint,
    client,
    async close() {
      client.destroy();
      await endpoint.close();
    },
  };
}

/** Resolves with what `promise` rejected with; fails the test if it resolved. */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    (value) => ({ resolved: value }),
    (error: unknown) => ({ rejected: error }),
  );
  if (!('rejected' in outcome))
    throw new Error(`expected a rejection, got ${JSON.stringify(outcome.resolved)}`);
  expect(outcome.rejected).toBeInstanceOf(Error);
  return outcome.rejected as Error;
}

/** A field as the value a user reads from it. */
export function fieldValue(field: Field): unknown {
  if (field.isNull) return null;
  if (field.booleanValue !== undefined) return field.booleanValue;
  if (field.longValue !== undefined) return field.longValue;
  if (field.doubleValue !== undefined) return field.doubleValue;
  if (field.stringValue !== undefined) return field.stringValue;
  return field.blobValue;
}

/** Milliseconds of a timestamp the SDK parsed; fails the test when it is missing. */
export function millisecondsOf(date: Date | undefined): number {
  expect(date).toBeInstanceOf(Date);
  return (date as Date).getTime();
}

/** The name {@link fieldValue} had first; kept for the suites that import it so. */
export { fieldValue as valueOf };

const TERMINAL = ['FINISHED', 'FAILED', 'ABORTED'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function describeDataApiSuite(name: string, makeEngine: () => Promise<SqlEngine>): void {
  describe(`Redshift Data API emulator on ${name}`, () => {
    let engine: SqlEngine;
    let stack: DataApiStack;
    let client: RedshiftDataClient;
    /** A prefix no other test run uses, for table and statement names. */
    const run = `t${randomUUID().slice(0, 8)}`;

    beforeAll(async () => {
      engine = await makeEngine();
      stack = await startDataApiStack(engine, { resultPageRows: 250 });
      client = stack.client;
    });

    afterAll(async () => {
      await stack?.close();
      await engine?.close();
    });

    /** Submits one statement without waiting for it. */
    async function submit(input: Partial<ExecuteStatementCommandInput>) {
      const response = await client.send(
        new ExecuteStatementCommand({ ...CONNECTION, ...input } as ExecuteStatementCommandInput),
      );
      return response.Id as string;
    }

    /** DescribeStatement once the statement has ended (long polls on the server). */
    async function ended(id: string, via = client): Promise<DescribeStatementResponse> {
      for (;;) {
        const described = await via.send(
          new DescribeStatementCommand({ Id: id, WaitTimeSeconds: 30 }),
        );
        if (TERMINAL.includes(described.Status ?? '')) return described;
      }
    }

    /** Polls until the statement shows one of `statuses` (for a statement still running). */
    async function untilStatus(id: string, statuses: string[]): Promise<void> {
      for (;;) {
        const described = await client.send(new DescribeStatementCommand({ Id: id }));
        if (statuses.includes(described.Status ?? '')) return;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }

    /** Runs a statement to its end and returns its description. */
    async function runSql(sql: string, input: Partial<ExecuteStatementCommandInput> = {}) {
      return ended(await submit({ Sql: sql, ...input }));
    }

    /** Every row of a finished statement's result, across pages, as plain values. */
    async function rowsOf(id: string): Promise<unknown[][]> {
      const rows: unknown[][] = [];
      let nextToken: string | undefined;
      do {
        const page = await client.send(
          new GetStatementResultCommand({ Id: id, NextToken: nextToken }),
        );
        rows.push(...(page.Records ?? []).map((record) => record.map(fieldValue)));
        nextToken = page.NextToken;
      } while (nextToken);
      return rows;
    }

    /** Runs a query that must finish and returns its rows. */
    async function query(sql: string, input: Partial<ExecuteStatementCommandInput> = {}) {
      const described = await runSql(sql, input);
      expect(described.Error).toBeUndefined();
      expect(described.Status).toBe('FINISHED');
      return rowsOf(described.Id as string);
    }

    async function validationMessage(promise: Promise<unknown>): Promise<string> {
      const error = await rejectionOf(promise);
      expect(error).toBeInstanceOf(ValidationException);
      return error.message;
    }

    describe('Operation: ExecuteStatement', () => {
      it('answers at once with the statement SUBMITTED and runs it afterwards', async () => {
        // Act
        const response = await client.send(
          new ExecuteStatementCommand({ ...CONNECTION, Sql: 'select 1 as one' }),
        );
        const described = await ended(response.Id as string);

        // Assess
        expect(response.Id).toMatch(UUID);
        expect(response.Status).toBe('SUBMITTED');
        expect(response.CreatedAt).toBeInstanceOf(Date);
        expect(response).toMatchObject({
          ClusterIdentifier: 'spectra-local',
          Database: 'dev',
          DbUser: demoUserOf('acme'),
        });
        expect(response.SessionId).toBeUndefined();
        expect(described.Status).toBe('FINISHED');
      });

      it('holds the response until the statement ends when WaitTimeSeconds is set', async () => {
        // Act
        const response = await client.send(
          new ExecuteStatementCommand({ ...CONNECTION, Sql: 'select 1', WaitTimeSeconds: 20 }),
        );

        // Assess
        expect(response.Status).toBe('FINISHED');
        expect(response.HasResultSet).toBe(true);
        expect(response.RedshiftPid).toBeGreaterThan(0);
      });

      it('answers with the current status when WaitTimeSeconds passes first', async () => {
        // Act
        const response = await client.send(
          new ExecuteStatementCommand({
            ...CONNECTION,
            Sql: 'select pg_sleep(2)',
            WaitTimeSeconds: 1,
          }),
        );
        const described = await ended(response.Id as string);

        // Assess
        expect(['SUBMITTED', 'PICKED', 'STARTED']).toContain(response.Status);
        expect(described.Status).toBe('FINISHED');
      });

      it('accepts a WorkgroupName instead of a ClusterIdentifier', async () => {
        // Act
        const response = await client.send(
          new ExecuteStatementCommand({
            WorkgroupName: 'spectra-wg',
            Database: 'dev',
            DbUser: demoUserOf('acme'),
            Sql: 'select 1',
            WaitTimeSeconds: 20,
          }),
        );

        // Assess
        expect(response.WorkgroupName).toBe('spectra-wg');
        expect(response.ClusterIdentifier).toBeUndefined();
        expect(response.Status).toBe('FINISHED');
      });

      it('runs as the user a SecretArn names, or secret_user when it names none', async () => {
        // Prepare: the user a secret holds exists, as on a cluster
        await engine.createUser('secret_user');
        const secretArn =
          'arn:aws:secretsmanager:us-east-1:000000000000:secret:spectra/tenant_globex-AbC123';

        // Act
        const named = await query('select current_user', {
          DbUser: undefined,
          SecretArn: secretArn,
        });
        const unnamed = await query('select current_user', {
          DbUser: undefined,
          SecretArn: 'my-secret',
        });

        // Assess
        expect(named).toEqual([['tenant_globex']]);
        expect(unnamed).toEqual([['secret_user']]);
      });

      it('runs a Serverless statement without DbUser or SecretArn as the IAM-derived user', async () => {
        // Act
        const user = await query('select current_user', {
          ClusterIdentifier: undefined,
          WorkgroupName: 'spectra-wg',
          DbUser: undefined,
        });

        // Assess
        expect(user).toEqual([['iamr_local']]);
      });

      it('fails the statement with the engine error worded as Redshift words it', async () => {
        // Act
        const described = await runSql('select * from nope');

        // Assess
        expect(described.Status).toBe('FAILED');
        expect(described.Error).toBe('ERROR: relation "nope" does not exist');
        expect(described.HasResultSet).toBe(false);
        expect(described.ResultRows).toBe(-1);
      });

      it('fails the statement for a db user name Redshift would not take', async () => {
        // Act
        const described = await runSql('select 1', { DbUser: 'Not-A-User' });

        // Assess
        expect(described.Status).toBe('FAILED');
        expect(described.Error).toMatch(/^ERROR: invalid user name "Not-A-User"/);
      });

      it('loads the Redshift shims: GETDATE, SYSDATE(), NVL, LEN, DATEADD, DATEDIFF, LISTAGG', async () => {
        // Act
        const rows = await query(
          `select dateadd(day, 1, '2008-02-28'::date) as next_day,
                  dateadd('month', 1, '2008-01-31') as next_month,
                  datediff(month, '2008-01-15', '2008-03-01') as months,
                  datediff(day, '2008-01-01', '2008-03-01') as days,
                  nvl(null, 'fallback') as nvl, len('abc') as len,
                  getdate() <= sysdate() + interval '1 second' as has_time,
                  listagg(catname, ',' order by catid) as names
           from category where catid <= 3`,
        );

        // Assess
        expect(rows).toEqual([
          ['2008-02-29 00:00:00', '2008-02-29 00:00:00', 2, 60, 'fallback', 3, true, 'MLB,NHL,NFL'],
        ]);
      });

      describe('Parameters', () => {
        it('binds :name placeholders, as often as they are used, but not inside literals or comments', async () => {
          // Prepare
          const sql = `select :n::int + 1 as next, :n::int * 2 as twice, ':n' as quoted,
                $$:n$$ as dollar, (array[1,2,3])[2:3] as slice /* :n */ -- :n
                , :label as label`;
          const parameters = [
            { name: 'n', value: '41' },
            { name: 'label', value: "it's" },
          ];

          // Act
          const id = await submit({ Sql: sql, Parameters: parameters });
          const described = await ended(id);
          const rows = await rowsOf(id);

          // Assess
          expect(rows).toEqual([[42, 82, ':n', ':n', '{2,3}', "it's"]]);
          expect(described.QueryString).toBe(sql);
          expect(described.QueryParameters).toEqual(parameters);
        });

        it('passes the text through unchanged when there are no parameters', async () => {
          // Act
          const rows = await query("select (array[10,20,30])[1:2] as slice, ':x' as text");

          // Assess
          expect(rows).toEqual([['{10,20}', ':x']]);
        });

        it.each([
          [
            'a placeholder no parameter names',
            'select :missing',
            [{ name: 'other', value: '1' }],
            /The SQL refers to :missing, but no parameter is named missing/,
          ],
          [
            'a parameter the SQL does not use',
            'select :a',
            [
              { name: 'a', value: '1' },
              { name: 'unused', value: '2' },
            ],
            /^Parameter unused is not used in the SQL statement/,
          ],
          [
            'a name with a character outside [0-9a-zA-Z_]',
            'select :a',
            [{ name: 'a-b', value: '1' }],
            /Value 'a-b' at 'parameters\.1\.member\.name' failed to satisfy constraint: Member must satisfy regular expression pattern: \^\[0-9a-zA-Z_\]\+\$/,
          ],
          [
            'an empty value',
            'select :a',
            [{ name: 'a', value: '' }],
            /Value '' at 'parameters\.1\.member\.value' failed to satisfy constraint: Member must have length greater than or equal to 1/,
          ],
          [
            'the same name twice',
            'select :a',
            [
              { name: 'a', value: '1' },
              { name: 'a', value: '2' },
            ],
            /^Parameter a is given more than once/,
          ],
        ])('throws ValidationException for %s', async (_case, sql, parameters, expected) => {
          // Act
          const message = await validationMessage(submit({ Sql: sql, Parameters: parameters }));

          // Assess
          expect(message).toMatch(expected);
        });
      });

      describe('Validation', () => {
        it.each([
          [
            'no Sql',
            { Sql: undefined },
            "1 validation error detected: Value null at 'sql' failed to satisfy constraint: Member must not be null",
          ],
          [
            'neither ClusterIdentifier nor WorkgroupName',
            { ClusterIdentifier: undefined },
            'Either ClusterIdentifier or WorkgroupName needs to be specified.',
          ],
          [
            'both ClusterIdentifier and WorkgroupName',
            { WorkgroupName: 'spectra-wg' },
            'Specify either ClusterIdentifier or WorkgroupName, not both.',
          ],
          [
            'neither DbUser nor SecretArn',
            { DbUser: undefined },
            'Either DbUser or SecretArn needs to be specified: the local warehouse runs every statement as a database user.',
          ],
          [
            'both DbUser and SecretArn',
            { SecretArn: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:x-AbC123' },
            'Specify either DbUser or SecretArn, not both.',
          ],
          [
            'no Database',
            { Database: undefined },
            'Database needs to be specified; the local database is dev.',
          ],
          [
            'a database other than dev',
            { Database: 'prod' },
            'Database "prod" does not exist. The local warehouse has one database: dev.',
          ],
          [
            'SessionKeepAliveSeconds above 86400',
            { SessionKeepAliveSeconds: 90000 },
            "1 validation error detected: Value '90000' at 'sessionKeepAliveSeconds' failed to satisfy constraint: Member must have value less than or equal to 86400",
          ],
          [
            'WaitTimeSeconds above 30',
            { WaitTimeSeconds: 31 },
            "1 validation error detected: Value '31' at 'waitTimeSeconds' failed to satisfy constraint: Member must have value less than or equal to 30",
          ],
          [
            'a ClientToken of 65 characters',
            { ClientToken: 'k'.repeat(65) },
            `1 validation error detected: Value '${'k'.repeat(65)}' at 'clientToken' failed to satisfy constraint: Member must have length less than or equal to 64`,
          ],
          [
            'an unknown ResultFormat',
            { ResultFormat: 'XML' as 'CSV' },
            "1 validation error detected: Value 'XML' at 'resultFormat' failed to satisfy constraint: Member must satisfy enum value set: [JSON, CSV]",
          ],
        ])('throws ValidationException for %s', async (_case, change, expected) => {
          // Act
          const message = await validationMessage(
            client.send(
              new ExecuteStatementCommand({
                ...CONNECTION,
                Sql: 'select 1',
                ...change,
              } as ExecuteStatementCommandInput),
            ),
          );

          // Assess
          expect(message).toBe(expected);
        });

        it('throws ValidationException for SQL over 100 KB', async () => {
          // Prepare: 100 KB of comment after a statement.
          const sql = `select 1 -- ${'x'.repeat(100 * 1024)}`;

          // Act
          const message = await validationMessage(submit({ Sql: sql }));

          // Assess
          expect(message).toMatch(
            /^Sql is 1024\d\d bytes; a SQL statement can be at most 102400 bytes/,
          );
        });

        it('runs SQL of exactly 100 KB', async () => {
          // Prepare
          const head = 'select 1 as one -- ';
          const sql = head + 'x'.repeat(100 * 1024 - head.length);

          // Act
          const rows = await query(sql);

          // Assess
          expect(rows).toEqual([[1]]);
        });
      });
    });

    describe('Operation: DescribeStatement', () => {
      it('describes a finished query: rows, size, pid, query id and timestamps', async () => {
        // Act
        const described = await runSql('select userid from users where userid <= 5');

        // Assess
        expect(described).toMatchObject({
          Status: 'FINISHED',
          HasResultSet: true,
          ResultRows: 5,
          ResultFormat: 'JSON',
          DbUser: demoUserOf('acme'),
          Database: 'dev',
          ClusterIdentifier: 'spectra-local',
          QueryString: 'select userid from users where userid <= 5',
        });
        expect(described.ResultSize).toBeGreaterThan(0);
        expect(described.RedshiftPid).toBeGreaterThan(0);
        expect(described.RedshiftQueryId).toBeGreaterThan(0);
        expect(Number.isInteger(described.Duration)).toBe(true);
        expect(described.Duration).toBeGreaterThanOrEqual(0);
        expect((described.UpdatedAt as Date).getTime()).toBeGreaterThanOrEqual(
          (described.CreatedAt as Date).getTime(),
        );
        expect(described.Error).toBeUndefined();
      });

      it('reports rows affected for DML and -1 for DDL', async () => {
        // Act
        const created = await runSql(`create table ${run}_dml (x int)`);
        const inserted = await runSql(`insert into ${run}_dml values (1), (2), (3)`);

        // Assess
        expect(created).toMatchObject({ Status: 'FINISHED', ResultRows: -1, ResultSize: -1 });
        expect(created.HasResultSet).toBe(false);
        expect(inserted).toMatchObject({ Status: 'FINISHED', ResultRows: 3, HasResultSet: false });
      });

      it('shows a long statement STARTED while 20 other DescribeStatement calls complete before it ends', async () => {
        // Prepare
        const others = [
          await submit({ Sql: 'select 1' }),
          await submit({ Sql: 'select 2' }),
          await submit({ Sql: 'select 3' }),
        ];
        await Promise.all(others.map((id) => ended(id)));
        const sleeper = await submit({ Sql: 'select pg_sleep(2)' });
        await untilStatus(sleeper, ['STARTED']);

        // Act
        const completed: string[] = [];
        const sleeperEnded = ended(sleeper).then((described) => {
          completed.push('sleeper');
          return described;
        });
        const describes = Array.from({ length: 20 }, (_, index) =>
          client
            .send(new DescribeStatementCommand({ Id: others[index % others.length] }))
            .then((described) => {
              completed.push(`describe ${described.Status}`);
            }),
        );
        const [final] = await Promise.all([sleeperEnded, ...describes]);

        // Assess
        expect(completed).toEqual([...Array(20).fill('describe FINISHED'), 'sleeper']);
        expect(final.Status).toBe('FINISHED');
      });

      it('throws ResourceNotFoundException for an id that does not exist', async () => {
        // Prepare
        const id = randomUUID();

        // Act
        const error = await rejectionOf(client.send(new DescribeStatementCommand({ Id: id })));

        // Assess
        expect(error).toBeInstanceOf(ResourceNotFoundException);
        expect(error.message).toBe('Query does not exist.');
        expect((error as ResourceNotFoundException).ResourceId).toBe(id);
      });

      it('throws ValidationException for an id that is not a statement id', async () => {
        // Act
        const message = await validationMessage(
          client.send(new DescribeStatementCommand({ Id: 'not-an-id' })),
        );

        // Assess
        expect(message).toMatch(/^1 validation error detected: Value 'not-an-id' at 'id'/);
      });
    });

    describe('Operation: GetStatementResult', () => {
      it('returns each type as the Field member Redshift uses, with Redshift type names', async () => {
        // Act
        const id = await submit({
          Sql: `select 1::int2 as i2, 2::int4 as i4, 9007199254740991::int8 as i8,
                  1.5::float4 as f4, 2.25::float8 as f8, 12.34::numeric(5,2) as num,
                  true as yes, false as no, null::int as missing, 'text'::text as t,
                  'v'::varchar(5) as v, 'c'::char(3) as c, date '2008-01-01' as d,
                  timestamp '2008-01-01 10:11:12' as ts,
                  timestamptz '2008-01-01 10:11:12+00' as tstz, time '10:11:12' as tm`,
        });
        await ended(id);
        const result = await client.send(new GetStatementResultCommand({ Id: id }));

        // Assess
        expect(result.Records).toEqual([
          [
            { longValue: 1 },
            { longValue: 2 },
            { longValue: 9007199254740991 },
            { doubleValue: 1.5 },
            { doubleValue: 2.25 },
            { stringValue: '12.34' },
            { booleanValue: true },
            { booleanValue: false },
            { isNull: true },
            { stringValue: 'text' },
            { stringValue: 'v' },
            { stringValue: 'c  ' },
            { stringValue: '2008-01-01' },
            { stringValue: '2008-01-01 10:11:12' },
            { stringValue: '2008-01-01 10:11:12+00' },
            { stringValue: '10:11:12' },
          ],
        ]);
        expect(result.ColumnMetadata?.map((column) => column.typeName)).toEqual([
          'int2',
          'int4',
          'int8',
          'float4',
          'float8',
          'numeric',
          'bool',
          'bool',
          'int4',
          'varchar',
          'varchar',
          'bpchar',
          'date',
          'timestamp',
          'timestamptz',
          'time',
        ]);
        expect(result.TotalNumRows).toBe(1);
        expect(result.NextToken).toBeUndefined();
      });

      it('describes table columns with their schema, table, nullability, precision and scale', async () => {
        // Act
        const id = await submit({
          Sql: 'select salesid, pricepaid, tenant_id, saletime, salesid + 1 as next from sales limit 1',
        });
        await ended(id);
        const result = await client.send(new GetStatementResultCommand({ Id: id }));

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

      it('pages the rows by NextToken, with the total on every page', async () => {
        // Prepare
        const id = await submit({ Sql: 'select userid from users order by userid' });
        await ended(id);

        // Act
        const pages = [];
        let nextToken: string | undefined;
        do {
          const page = await client.send(
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
        // Prepare
        const id = await submit({ Sql: 'select pg_sleep(0.5), 7 as seven' });

        // Act
        const result = await client.send(
          new GetStatementResultCommand({ Id: id, WaitTimeSeconds: 20 }),
        );

        // Assess
        expect(result.Records?.map((record) => record.map(fieldValue))).toEqual([['', 7]]);
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
          client.send(new GetStatementResultCommand({ Id: id })),
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
          client.send(new GetStatementResultCommand({ Id: id, NextToken: 'garbage' })),
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
          client.send(new GetStatementResultCommand({ Id: id })),
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
        const result = await client.send(new GetStatementResultV2Command({ Id: id }));

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
        const first = await client.send(new GetStatementResultV2Command({ Id: id }));
        const second = await client.send(
          new GetStatementResultV2Command({ Id: id, NextToken: first.NextToken }),
        );

        // Assess
        const firstLines = (first.Records?.[0]?.CSVRecords ?? '').trimEnd().split('\n');
        const secondLines = (second.Records?.[0]?.CSVRecords ?? '').trimEnd().split('\n');
        expect(firstLines).toEqual([
          'userid',
          ...Array.from({ length: 250 }, (_, i) => `${i + 1}`),
        ]);
        expect(secondLines).toEqual(Array.from({ length: 50 }, (_, i) => `${i + 251}`));
        expect(second.NextToken).toBeUndefined();
      });

      it('throws ValidationException for a statement run with ResultFormat JSON', async () => {
        // Prepare
        const id = await submit({ Sql: 'select 1' });
        await ended(id);

        // Act
        const message = await validationMessage(
          client.send(new GetStatementResultV2Command({ Id: id })),
        );

        // Assess
        expect(message).toBe(
          'The statement was run with ResultFormat JSON; read its result with GetStatementResult.',
        );
      });
    });

    describe('Operation: BatchExecuteStatement', () => {
      async function batch(input: Partial<BatchExecuteStatementCommandInput>) {
        const response = await client.send(
          new BatchExecuteStatementCommand({
            ...CONNECTION,
            ...input,
          } as BatchExecuteStatementCommandInput),
        );
        return ended(response.Id as string);
      }

      it('runs the statements in order as one transaction, each with its own id and result', async () => {
        // Act
        const described = await batch({
          Sqls: [
            `create table ${run}_batch (x int)`,
            `insert into ${run}_batch values (1), (2)`,
            `select x from ${run}_batch order by x`,
          ],
        });

        // Assess
        const id = described.Id as string;
        expect(described).toMatchObject({
          Status: 'FINISHED',
          ExecutionMode: 'TRANSACTION',
          HasResultSet: true,
          RedshiftQueryId: 0,
        });
        expect(described.QueryString).toBeUndefined();
        expect(
          described.SubStatements?.map((sub) => [
            sub.Id,
            sub.Status,
            sub.ResultRows,
            sub.HasResultSet,
          ]),
        ).toEqual([
          [`${id}:1`, 'FINISHED', -1, false],
          [`${id}:2`, 'FINISHED', 2, false],
          [`${id}:3`, 'FINISHED', 2, true],
        ]);
        expect(await rowsOf(`${id}:3`)).toEqual([[1], [2]]);
      });

      it('rolls the whole transaction back when a statement fails', async () => {
        // Prepare
        await runSql(`create table ${run}_tx (x int)`);

        // Act
        const described = await batch({
          Sqls: [
            `insert into ${run}_tx values (1)`,
            'select * from nope',
            `insert into ${run}_tx values (2)`,
          ],
        });

        // Assess
        expect(described.Status).toBe('FAILED');
        expect(described.Error).toBe('ERROR: relation "nope" does not exist');
        expect(described.SubStatements?.map((sub) => sub.Status)).toEqual([
          'FINISHED',
          'FAILED',
          'ABORTED',
        ]);
        expect(described.SubStatements?.[1]?.Error).toBe('ERROR: relation "nope" does not exist');
        expect(await query(`select count(*) from ${run}_tx`)).toEqual([[0]]);
      });

      it('keeps what ran before the failure in AUTO_COMMIT mode', async () => {
        // Prepare
        await runSql(`create table ${run}_auto (x int)`);

        // Act
        const described = await batch({
          Sqls: [
            `insert into ${run}_auto values (1)`,
            'select * from nope',
            `insert into ${run}_auto values (2)`,
          ],
          ExecutionMode: 'AUTO_COMMIT',
        });

        // Assess
        expect(described.Status).toBe('FAILED');
        expect(described.ExecutionMode).toBe('AUTO_COMMIT');
        expect(await query(`select x from ${run}_auto`)).toEqual([[1]]);
      });

      it('shares Parameters across the statements', async () => {
        // Act
        const described = await batch({
          Sqls: ['select :a::int as a', 'select :b as b, :a::int + 1 as next'],
          Parameters: [
            { name: 'a', value: '1' },
            { name: 'b', value: 'x' },
          ],
        });

        // Assess
        expect(described.Status).toBe('FINISHED');
        expect(await rowsOf(`${described.Id}:2`)).toEqual([['x', 2]]);
      });

      it('describes a sub-statement by its own id', async () => {
        // Prepare
        const described = await batch({ Sqls: ['select 1', 'select 2 as two'] });

        // Act
        const sub = await client.send(new DescribeStatementCommand({ Id: `${described.Id}:2` }));

        // Assess
        expect(sub).toMatchObject({
          Id: `${described.Id}:2`,
          QueryString: 'select 2 as two',
          Status: 'FINISHED',
          ResultRows: 1,
          HasResultSet: true,
        });
      });

      it('throws ValidationException for the result of the batch itself', async () => {
        // Prepare
        const described = await batch({ Sqls: ['select 1', 'select 2'] });

        // Act
        const message = await validationMessage(
          client.send(new GetStatementResultCommand({ Id: described.Id })),
        );

        // Assess
        expect(message).toBe(
          `Statement ${described.Id} is a batch: read the result of each SQL statement by its sub-statement Id, ${described.Id}:1 to ${described.Id}:2.`,
        );
      });

      it('throws ResourceNotFoundException for a sub-statement the batch does not have', async () => {
        // Prepare
        const described = await batch({ Sqls: ['select 1'] });

        // Act
        const error = await rejectionOf(
          client.send(new DescribeStatementCommand({ Id: `${described.Id}:2` })),
        );

        // Assess
        expect(error).toBeInstanceOf(ResourceNotFoundException);
      });

      it.each([
        [
          'no SQL',
          { Sqls: [] },
          "1 validation error detected: Value '[]' at 'sqls' failed to satisfy constraint: Member must have length greater than or equal to 1",
        ],
        [
          '41 SQL statements',
          { Sqls: Array(41).fill('select 1') },
          /^1 validation error detected: Value '\[.*' at 'sqls' failed to satisfy constraint: Member must have length less than or equal to 40$/,
        ],
        [
          'a parameter no statement uses',
          {
            Sqls: ['select :a', 'select 1'],
            Parameters: [
              { name: 'a', value: '1' },
              { name: 'b', value: '2' },
            ],
          },
          'Parameter b is not used in any of the SQL statements; remove it or refer to it as :b.',
        ],
        [
          'an unknown ExecutionMode',
          { Sqls: ['select 1'], ExecutionMode: 'SOMETIMES' as 'AUTO_COMMIT' },
          "1 validation error detected: Value 'SOMETIMES' at 'executionMode' failed to satisfy constraint: Member must satisfy enum value set: [TRANSACTION, AUTO_COMMIT]",
        ],
      ])('throws ValidationException for %s', async (_case, change, expected) => {
        // Act
        const message = await validationMessage(
          client.send(
            new BatchExecuteStatementCommand({
              ...CONNECTION,
              ...change,
            } as BatchExecuteStatementCommandInput),
          ),
        );

        // Assess
        if (typeof expected === 'string') expect(message).toBe(expected);
        else expect(message).toMatch(expected);
      });
    });

    describe('Operation: CancelStatement', () => {
      it('aborts a running statement, whose result is then gone', async () => {
        // Prepare
        const id = await submit({ Sql: 'select pg_sleep(2)' });
        await untilStatus(id, ['STARTED']);

        // Act
        const cancelled = await client.send(new CancelStatementCommand({ Id: id }));
        const described = await client.send(new DescribeStatementCommand({ Id: id }));
        const again = await validationMessage(client.send(new CancelStatementCommand({ Id: id })));
        const result = await validationMessage(
          client.send(new GetStatementResultCommand({ Id: id })),
        );

        // Assess
        expect(cancelled.Status).toBe(true);
        expect(described.Status).toBe('ABORTED');
        expect(again).toBe(
          `Could not cancel a query that is already in ABORTED state with ID: ${id}`,
        );
        expect(result).toMatch(/^Query does not have result\. The statement is ABORTED/);
      });

      it('throws ValidationException for a statement that has finished', async () => {
        // Prepare
        const { Id: id } = await runSql('select 1');

        // Act
        const message = await validationMessage(
          client.send(new CancelStatementCommand({ Id: id })),
        );

        // Assess
        expect(message).toBe(
          `Could not cancel a query that is already in FINISHED state with ID: ${id}`,
        );
      });
    });

    describe('Unknown statement ids', () => {
      it.each([
        ['DescribeStatement', (id: string) => new DescribeStatementCommand({ Id: id })],
        ['GetStatementResult', (id: string) => new GetStatementResultCommand({ Id: id })],
        ['GetStatementResultV2', (id: string) => new GetStatementResultV2Command({ Id: id })],
        ['CancelStatement', (id: string) => new CancelStatementCommand({ Id: id })],
      ])('%s throws ResourceNotFoundException naming the id', async (_operation, command) => {
        // Prepare
        const id = randomUUID();

        // Act
        // biome-ignore lint/suspicious/noExplicitAny: the four commands share no send() overload
        const error = await rejectionOf(client.send(command(id) as any));

        // Assess
        expect(error).toBeInstanceOf(ResourceNotFoundException);
        expect(error.message).toBe('Query does not exist.');
        expect((error as ResourceNotFoundException).ResourceId).toBe(id);
      });
    });

    describe('Sessions', () => {
      async function openSession(input: Partial<ExecuteStatementCommandInput> = {}) {
        const response = await client.send(
          new ExecuteStatementCommand({
            ...CONNECTION,
            Sql: 'select 1',
            SessionKeepAliveSeconds: 600,
            WaitTimeSeconds: 20,
            ...input,
          } as ExecuteStatementCommandInput),
        );
        expect(response.Status).toBe('FINISHED');
        return response;
      }

      it('opens a session with SessionKeepAliveSeconds and runs later statements on it', async () => {
        // Act
        const opened = await openSession({
          Sql: `create temp table ${run}_scratch as select 5 as x`,
        });
        const sessionId = opened.SessionId as string;
        const reused = await client.send(
          new ExecuteStatementCommand({
            Sql: `select x, current_user from ${run}_scratch`,
            SessionId: sessionId,
            WaitTimeSeconds: 20,
          }),
        );
        const described = await client.send(new DescribeStatementCommand({ Id: reused.Id }));
        const rows = await rowsOf(reused.Id as string);

        // Assess
        expect(sessionId).toMatch(UUID);
        expect(reused.SessionId).toBe(sessionId);
        expect(described.SessionId).toBe(sessionId);
        expect(reused.RedshiftPid).toBe(opened.RedshiftPid);
        expect(reused).toMatchObject({
          DbUser: demoUserOf('acme'),
          Database: 'dev',
          ClusterIdentifier: 'spectra-local',
        });
        expect(rows).toEqual([[5, demoUserOf('acme')]]);
      });

      it('lists an open session as AVAILABLE with its keep-alive and expiry', async () => {
        // Prepare
        const opened = await openSession({ SessionKeepAliveSeconds: 900 });

        // Act
        const listed = await client.send(new ListSessionsCommand({}));
        const session = listed.Sessions?.find((each) => each.SessionId === opened.SessionId);

        // Assess
        expect(session).toMatchObject({
          Status: 'AVAILABLE',
          DbUser: demoUserOf('acme'),
          Database: 'dev',
          ClusterIdentifier: 'spectra-local',
          SessionAliveSeconds: 900,
        });
        expect(session?.CurrentStatementId).toBeUndefined();
        expect(millisecondsOf(session?.SessionTtl)).toBeGreaterThan(
          millisecondsOf(session?.CreatedAt),
        );
        expect(stack.emulator.listSessionIds()).toContain(opened.SessionId);
      });

      it('refuses a second statement while the session runs one, and lists it BUSY', async () => {
        // Prepare
        const opened = await openSession();
        const sessionId = opened.SessionId as string;
        const sleeper = await client.send(
          new ExecuteStatementCommand({ Sql: 'select pg_sleep(1)', SessionId: sessionId }),
        );
        const rejectedBefore = stack.emulator.stats().busyRejections;

        // Act
        const message = await validationMessage(
          client.send(new ExecuteStatementCommand({ Sql: 'select 2', SessionId: sessionId })),
        );
        const whileBusy = await client.send(new ListSessionsCommand({ SessionId: sessionId }));
        await ended(sleeper.Id as string);
        const afterwards = await client.send(
          new ExecuteStatementCommand({
            Sql: 'select 3',
            SessionId: sessionId,
            WaitTimeSeconds: 20,
          }),
        );

        // Assess
        expect(message).toBe('Session is not available');
        expect(stack.emulator.stats().busyRejections).toBe(rejectedBefore + 1);
        expect(whileBusy.Sessions?.[0]).toMatchObject({
          Status: 'BUSY',
          CurrentStatementId: sleeper.Id,
        });
        expect(afterwards.Status).toBe('FINISHED');
      });

      it('refuses a session that was expired, and lists it CLOSED', async () => {
        // Prepare
        const opened = await openSession();
        const sessionId = opened.SessionId as string;

        // Act
        const expired = stack.emulator.expireSession(sessionId);
        const message = await validationMessage(
          client.send(new ExecuteStatementCommand({ Sql: 'select 1', SessionId: sessionId })),
        );
        const listed = await client.send(new ListSessionsCommand({ SessionId: sessionId }));
        const open = await client.send(new ListSessionsCommand({}));
        const closedOnes = await client.send(new ListSessionsCommand({ Status: 'CLOSED' }));

        // Assess
        expect(expired).toBe(true);
        expect(stack.emulator.expireSession(sessionId)).toBe(false);
        expect(message).toBe('Session is not available');
        expect(listed.Sessions?.[0]?.Status).toBe('CLOSED');
        expect(open.Sessions?.map((each) => each.SessionId)).not.toContain(sessionId);
        expect(closedOnes.Sessions?.map((each) => each.SessionId)).toContain(sessionId);
        expect(stack.emulator.listSessionIds()).not.toContain(sessionId);
      });

      it('fails the running statement when its session is expired', async () => {
        // Prepare
        const opened = await openSession();
        const sessionId = opened.SessionId as string;
        const sleeper = await client.send(
          new ExecuteStatementCommand({ Sql: 'select pg_sleep(1)', SessionId: sessionId }),
        );
        await untilStatus(sleeper.Id as string, ['STARTED']);

        // Act
        stack.emulator.expireSession(sessionId);
        const described = await ended(sleeper.Id as string);

        // Assess
        expect(described.Status).toBe('FAILED');
        expect(described.Error).toMatch(new RegExp(`^ERROR: The session ${sessionId} was closed`));
      });

      it('throws ValidationException naming a session id that never existed', async () => {
        // Prepare
        const sessionId = randomUUID();

        // Act
        const message = await validationMessage(
          client.send(new ExecuteStatementCommand({ Sql: 'select 1', SessionId: sessionId })),
        );

        // Assess
        expect(message).toBe(`Session with Id: ${sessionId} is invalid`);
      });

      it('throws ValidationException for connection fields sent with a SessionId', async () => {
        // Prepare
        const opened = await openSession();

        // Act
        const message = await validationMessage(
          client.send(
            new ExecuteStatementCommand({
              ...CONNECTION,
              Sql: 'select 1',
              SessionId: opened.SessionId,
            }),
          ),
        );

        // Assess
        expect(message).toBe(
          'SessionId cannot be combined with ClusterIdentifier, Database, DbUser: a session keeps the cluster or workgroup, database and user it was opened with. Send only Sql and SessionId (plus statement options).',
        );
      });

      it('opens a session for a batch and runs a batch on an open session', async () => {
        // Prepare
        const opened = await client.send(
          new BatchExecuteStatementCommand({
            ...CONNECTION,
            Sqls: ['select 1', 'select 2'],
            SessionKeepAliveSeconds: 300,
            WaitTimeSeconds: 20,
          }),
        );

        // Act
        const reused = await client.send(
          new BatchExecuteStatementCommand({
            Sqls: ['select 3'],
            SessionId: opened.SessionId,
            WaitTimeSeconds: 20,
          }),
        );

        // Assess
        expect(opened.SessionId).toMatch(UUID);
        expect(reused).toMatchObject({ SessionId: opened.SessionId, Status: 'FINISHED' });
      });

      it('keeps the session BUSY while a new session opens, then runs the statement', async () => {
        // Prepare
        const openedBefore = stack.emulator.stats().sessionsOpened;
        stack.emulator.setSessionOpenLatency(1500);

        try {
          // Act: the long poll ends before the session has opened.
          const response = await client.send(
            new ExecuteStatementCommand({
              ...CONNECTION,
              Sql: 'select 1',
              SessionKeepAliveSeconds: 60,
              WaitTimeSeconds: 1,
            }),
          );
          const listed = await client.send(
            new ListSessionsCommand({ SessionId: response.SessionId }),
          );
          const described = await ended(response.Id as string);

          // Assess
          expect(response.Status).toBe('PICKED');
          expect(listed.Sessions?.[0]?.Status).toBe('BUSY');
          expect(described.Status).toBe('FINISHED');
          expect(stack.emulator.stats().sessionsOpened).toBe(openedBefore + 1);
        } finally {
          stack.emulator.setSessionOpenLatency(0);
        }
      });

      describe('ListSessions', () => {
        it('throws ResourceNotFoundException for a session id that never existed', async () => {
          // Prepare
          const sessionId = randomUUID();

          // Act
          const error = await rejectionOf(
            client.send(new ListSessionsCommand({ SessionId: sessionId })),
          );

          // Assess
          expect(error).toBeInstanceOf(ResourceNotFoundException);
          expect((error as ResourceNotFoundException).ResourceId).toBe(sessionId);
        });

        it('throws ValidationException for SessionId with filters', async () => {
          // Act
          const message = await validationMessage(
            client.send(
              new ListSessionsCommand({
                SessionId: randomUUID(),
                Status: 'AVAILABLE',
                Database: 'dev',
              }),
            ),
          );

          // Assess
          expect(message).toBe(
            'SessionId cannot be combined with Status, Database in ListSessions.',
          );
        });
      });

      describe('with a small session limit', () => {
        let small: DataApiStack;

        beforeAll(async () => {
          small = await startDataApiStack(engine, { maxSessions: 2, loadDemoData: false });
        });

        afterAll(async () => {
          await small?.close();
        });

        it('throws ActiveSessionsExceededException past the limit, until a session closes', async () => {
          // Prepare
          const open = (sql: string) =>
            small.client.send(
              new ExecuteStatementCommand({
                ...CONNECTION,
                Sql: sql,
                SessionKeepAliveSeconds: 60,
                WaitTimeSeconds: 20,
              }),
            );
          const first = await open('select 1');
          await open('select 2');

          // Act
          const refused = await rejectionOf(open('select 3'));
          const withoutSession = await small.client.send(
            new ExecuteStatementCommand({ ...CONNECTION, Sql: 'select 4', WaitTimeSeconds: 20 }),
          );
          small.emulator.expireSession(first.SessionId as string);
          const third = await open('select 5');

          // Assess
          expect(refused).toBeInstanceOf(ActiveSessionsExceededException);
          expect(refused.message).toBe(
            'The number of active sessions has reached the limit of 2. Reuse a session or let one expire.',
          );
          expect(withoutSession.Status).toBe('FINISHED');
          expect(third.Status).toBe('FINISHED');
          expect(small.emulator.stats()).toMatchObject({
            sessionsOpened: 3,
            activeSessions: 2,
            sessionLimitRejections: 1,
          });
        });
      });

      describe('with a clock the test moves', () => {
        let timed: DataApiStack;
        let now = Date.UTC(2030, 0, 1);

        beforeAll(async () => {
          timed = await startDataApiStack(engine, { clock: () => now, loadDemoData: false });
        });

        afterAll(async () => {
          await timed?.close();
        });

        const execute = (input: Partial<ExecuteStatementCommandInput>) =>
          timed.client.send(
            new ExecuteStatementCommand({
              Sql: 'select 1',
              WaitTimeSeconds: 20,
              ...input,
            } as ExecuteStatementCommandInput),
          );

        it('counts the keep-alive from the end of the last statement', async () => {
          // Prepare
          const opened = await execute({ ...CONNECTION, SessionKeepAliveSeconds: 60 });
          const sessionId = opened.SessionId as string;

          // Act
          now += 59_000;
          const second = await execute({ SessionId: sessionId });
          now += 59_000;
          const third = await execute({ SessionId: sessionId });
          now += 61_000;
          const message = await validationMessage(execute({ SessionId: sessionId }));
          const listed = await timed.client.send(new ListSessionsCommand({ SessionId: sessionId }));

          // Assess
          expect(second.Status).toBe('FINISHED');
          expect(third.Status).toBe('FINISHED');
          expect(message).toBe('Session is not available');
          expect(listed.Sessions?.[0]?.Status).toBe('CLOSED');
        });

        it('closes a session 24 hours after it opened, whatever its keep-alive', async () => {
          // Prepare
          const opened = await execute({ ...CONNECTION, SessionKeepAliveSeconds: 86400 });
          const sessionId = opened.SessionId as string;

          // Act
          now += 12 * 3600_000;
          const halfway = await execute({ SessionId: sessionId });
          const listed = await timed.client.send(new ListSessionsCommand({ SessionId: sessionId }));
          now += 12 * 3600_000;
          const message = await validationMessage(execute({ SessionId: sessionId }));

          // Assess: the TTL is the 24-hour cap, not 86400 s after the last statement.
          const [session] = listed.Sessions ?? [];
          expect(millisecondsOf(session?.SessionTtl)).toBe(
            millisecondsOf(session?.CreatedAt) + 24 * 3600_000,
          );
          expect(halfway.Status).toBe('FINISHED');
          expect(message).toBe('Session is not available');
        });

        it('forgets a ClientToken after 8 hours', async () => {
          // Prepare
          const token = randomUUID();
          const first = await execute({ ...CONNECTION, ClientToken: token });

          // Act
          now += 8 * 3600_000 - 1000;
          const within = await execute({ ...CONNECTION, ClientToken: token });
          now += 2000;
          const after = await execute({ ...CONNECTION, ClientToken: token });

          // Assess
          expect(within.Id).toBe(first.Id);
          expect(after.Id).not.toBe(first.Id);
        });
      });
    });

    describe('ClientToken', () => {
      it('returns the same statement for the same token and runs the SQL once', async () => {
        // Prepare
        await runSql(`create table ${run}_once (x int)`);
        const token = randomUUID();
        const submittedBefore = stack.emulator.stats().statementsSubmitted;
        const insert = {
          ...CONNECTION,
          Sql: `insert into ${run}_once values (1)`,
          ClientToken: token,
          WaitTimeSeconds: 20,
        };

        // Act
        const first = await client.send(new ExecuteStatementCommand(insert));
        const retry = await client.send(new ExecuteStatementCommand(insert));
        const submittedAfter = stack.emulator.stats().statementsSubmitted;

        // Assess
        expect(retry.Id).toBe(first.Id);
        expect(retry.Status).toBe('FINISHED');
        expect(submittedAfter).toBe(submittedBefore + 1);
        expect(await query(`select count(*) from ${run}_once`)).toEqual([[1]]);
      });

      it('returns the first statement and its session even when the retry differs', async () => {
        // Prepare
        const token = randomUUID();
        const first = await client.send(
          new ExecuteStatementCommand({
            ...CONNECTION,
            Sql: 'select 1',
            SessionKeepAliveSeconds: 60,
            ClientToken: token,
            WaitTimeSeconds: 20,
          }),
        );

        // Act
        const retry = await client.send(
          new ExecuteStatementCommand({ ...CONNECTION, Sql: 'select 2', ClientToken: token }),
        );

        // Assess
        expect(retry).toMatchObject({
          Id: first.Id,
          SessionId: first.SessionId,
          Status: 'FINISHED',
        });
      });

      it('does not spend the token on a call refused by validation', async () => {
        // Prepare
        const token = randomUUID();
        await validationMessage(
          client.send(
            new ExecuteStatementCommand({
              ...CONNECTION,
              Database: 'prod',
              Sql: 'select 1',
              ClientToken: token,
            }),
          ),
        );

        // Act
        const accepted = await client.send(
          new ExecuteStatementCommand({
            ...CONNECTION,
            Sql: 'select 1',
            ClientToken: token,
            WaitTimeSeconds: 20,
          }),
        );

        // Assess
        expect(accepted.Status).toBe('FINISHED');
      });

      it('makes BatchExecuteStatement idempotent too', async () => {
        // Prepare
        await runSql(`create table ${run}_batch_once (x int)`);
        const request = new BatchExecuteStatementCommand({
          ...CONNECTION,
          Sqls: [
            `insert into ${run}_batch_once values (1)`,
            `insert into ${run}_batch_once values (2)`,
          ],
          ClientToken: randomUUID(),
          WaitTimeSeconds: 20,
        });

        // Act
        const first = await client.send(request);
        const retry = await client.send(request);

        // Assess
        expect(retry.Id).toBe(first.Id);
        expect(await query(`select count(*) from ${run}_batch_once`)).toEqual([[2]]);
      });
    });

    describe('Operation: ListStatements', () => {
      const prefix = `${run}-list`;

      beforeAll(async () => {
        await runSql('select 1', { StatementName: `${prefix}-a` });
        await runSql('select * from nope', { StatementName: `${prefix}-b` });
        await runSql('select 3', { StatementName: `${prefix}-c`, Parameters: undefined });
        await client.send(
          new BatchExecuteStatementCommand({
            ...CONNECTION,
            Sqls: ['select 1', 'select 2'],
            StatementName: `${prefix}-batch`,
            WaitTimeSeconds: 20,
          }),
        );
      });

      it('lists finished statements by default, newest first, filtered by name prefix', async () => {
        // Act
        const listed = await client.send(new ListStatementsCommand({ StatementName: prefix }));

        // Assess
        expect(listed.Statements?.map((each) => each.StatementName)).toEqual([
          `${prefix}-batch`,
          `${prefix}-c`,
          `${prefix}-a`,
        ]);
        expect(listed.Statements?.[0]).toMatchObject({
          IsBatchStatement: true,
          QueryStrings: ['select 1', 'select 2'],
          Status: 'FINISHED',
        });
        expect(listed.Statements?.[1]).toMatchObject({
          IsBatchStatement: false,
          QueryString: 'select 3',
          ResultFormat: 'JSON',
        });
      });

      it('filters by Status, or lists every status with ALL', async () => {
        // Act
        const failed = await client.send(
          new ListStatementsCommand({ StatementName: prefix, Status: 'FAILED' }),
        );
        const all = await client.send(
          new ListStatementsCommand({ StatementName: prefix, Status: 'ALL' }),
        );

        // Assess
        expect(failed.Statements?.map((each) => each.StatementName)).toEqual([`${prefix}-b`]);
        expect(all.Statements).toHaveLength(4);
      });

      it('matches the name prefix case-sensitively', async () => {
        // Act
        const listed = await client.send(
          new ListStatementsCommand({ StatementName: prefix.toUpperCase(), Status: 'ALL' }),
        );

        // Assess
        expect(listed.Statements).toEqual([]);
      });

      it('pages with MaxResults and NextToken', async () => {
        // Act
        const first = await client.send(
          new ListStatementsCommand({ StatementName: prefix, Status: 'ALL', MaxResults: 3 }),
        );
        const second = await client.send(
          new ListStatementsCommand({
            StatementName: prefix,
            Status: 'ALL',
            MaxResults: 3,
            NextToken: first.NextToken,
          }),
        );

        // Assess
        expect(first.Statements).toHaveLength(3);
        expect(first.NextToken).toBeDefined();
        expect(second.Statements?.map((each) => each.StatementName)).toEqual([`${prefix}-a`]);
        expect(second.NextToken).toBeUndefined();
      });
    });

    describe('Catalog operations', () => {
      it('lists the one database', async () => {
        // Act
        const listed = await client.send(new ListDatabasesCommand(CONNECTION));

        // Assess
        expect(listed.Databases).toEqual(['dev']);
      });

      it('lists schemas matching a pattern', async () => {
        // Act
        const matching = await client.send(
          new ListSchemasCommand({ ...CONNECTION, SchemaPattern: 'pub%' }),
        );
        const all = await client.send(new ListSchemasCommand(CONNECTION));

        // Assess
        expect(matching.Schemas).toEqual(['public']);
        expect(all.Schemas).toEqual(
          expect.arrayContaining(['information_schema', 'pg_catalog', 'public']),
        );
      });

      it('lists the demo tables, filtered by patterns and paged', async () => {
        // Act
        const sales = await client.send(
          new ListTablesCommand({ ...CONNECTION, SchemaPattern: 'public', TablePattern: 'sal%' }),
        );
        const publicTables = await client.send(
          new ListTablesCommand({ ...CONNECTION, SchemaPattern: 'public' }),
        );
        const firstPage = await client.send(
          new ListTablesCommand({ ...CONNECTION, SchemaPattern: 'public', MaxResults: 2 }),
        );
        const systemView = await client.send(
          new ListTablesCommand({
            ...CONNECTION,
            SchemaPattern: 'pg_catalog',
            TablePattern: 'pg_roles',
          }),
        );

        // Assess
        expect(sales.Tables).toEqual([{ name: 'sales', schema: 'public', type: 'TABLE' }]);
        expect(publicTables.Tables?.map((table) => table.name)).toEqual(
          expect.arrayContaining([...DEMO_TABLES]),
        );
        expect(firstPage.Tables).toHaveLength(2);
        expect(firstPage.NextToken).toBeDefined();
        expect(systemView.Tables).toEqual([
          { name: 'pg_roles', schema: 'pg_catalog', type: 'SYSTEM VIEW' },
        ]);
      });

      it('describes a table column by column', async () => {
        // Act
        const described = await client.send(
          new DescribeTableCommand({ ...CONNECTION, Schema: 'public', Table: 'listing' }),
        );

        // Assess
        expect(described.TableName).toBe('listing');
        expect(
          described.ColumnList?.map((column) => [
            column.name,
            column.typeName,
            column.nullable,
            column.precision,
            column.scale,
          ]),
        ).toEqual([
          ['listid', 'int4', 0, 10, 0],
          ['tenant_id', 'varchar', 0, 64, 0],
          ['sellerid', 'int4', 0, 10, 0],
          ['eventid', 'int4', 0, 10, 0],
          ['dateid', 'int2', 0, 5, 0],
          ['numtickets', 'int2', 0, 5, 0],
          ['priceperticket', 'numeric', 1, 8, 2],
          ['totalprice', 'numeric', 1, 8, 2],
          ['listtime', 'timestamp', 1, 29, 6],
        ]);
        expect(described.ColumnList?.[0]).toMatchObject({
          schemaName: 'public',
          tableName: 'listing',
        });
      });

      it('describes a column default', async () => {
        // Act
        const described = await client.send(
          new DescribeTableCommand({ ...CONNECTION, Schema: 'public', Table: 'date' }),
        );

        // Assess
        expect(
          described.ColumnList?.find((column) => column.name === 'holiday')?.columnDefault,
        ).toBe('false');
      });

      it('returns no columns for a table that does not exist', async () => {
        // Act
        const described = await client.send(
          new DescribeTableCommand({ ...CONNECTION, Table: 'nope' }),
        );

        // Assess
        expect(described.ColumnList).toEqual([]);
      });

      it.each([
        [
          'ListTables without Database',
          () => new ListTablesCommand({ ...CONNECTION, Database: undefined }),
          "1 validation error detected: Value null at 'database' failed to satisfy constraint: Member must not be null",
        ],
        [
          'ListSchemas on another database',
          () => new ListSchemasCommand({ ...CONNECTION, Database: 'prod' }),
          'Database "prod" does not exist. The local warehouse has one database: dev.',
        ],
        [
          'DescribeTable without ClusterIdentifier or WorkgroupName',
          () =>
            new DescribeTableCommand({
              ...CONNECTION,
              ClusterIdentifier: undefined,
              Table: 'sales',
            }),
          'Either ClusterIdentifier or WorkgroupName needs to be specified.',
        ],
        [
          'ListTables connected to another database',
          () => new ListTablesCommand({ ...CONNECTION, ConnectedDatabase: 'prod' }),
          'Database "prod" does not exist. The local warehouse has one database: dev.',
        ],
        [
          'ListDatabases without DbUser or SecretArn',
          () => new ListDatabasesCommand({ ...CONNECTION, DbUser: undefined }),
          'Either DbUser or SecretArn needs to be specified: the local warehouse runs every statement as a database user.',
        ],
      ])('throws ValidationException for %s', async (_case, command, expected) => {
        // Act
        // biome-ignore lint/suspicious/noExplicitAny: the commands share no send() overload
        const message = await validationMessage(client.send(command() as any));

        // Assess
        expect(message).toBe(expected);
      });
    });

    describe('Demo data', () => {
      /** Row counts and a digest of every demo row, read as the superuser. */
      async function fingerprint(): Promise<(string | null)[][]> {
        const digests = DEMO_TABLES.map(
          (table) =>
            `select '${table}', count(*)::text, md5(coalesce(string_agg(t::text, '|' order by t::text), '')) from "${table}" as t`,
        );
        const result = await engine.admin(digests.join(' union all '));
        return result.rows;
      }

      it('loads the same rows every time', async () => {
        // Prepare
        const before = await fingerprint();

        // Act
        await loadDemoData(engine);
        const after = await fingerprint();

        // Assess
        expect(after).toEqual(before);
        expect(after.map(([table, count]) => [table, count])).toEqual([
          ['users', '1000'],
          ['venue', '50'],
          ['category', '11'],
          ['date', '366'],
          ['event', '500'],
          ['listing', '2000'],
          ['sales', '3000'],
        ]);
      });
    });

    describe('Method: close', () => {
      it('ends the open sessions and the long polls waiting on them', async () => {
        // Prepare
        const own = await startDataApiStack(engine, { loadDemoData: false });
        try {
          const opened = await own.client.send(
            new ExecuteStatementCommand({
              ...CONNECTION,
              Sql: 'select 1',
              SessionKeepAliveSeconds: 60,
              WaitTimeSeconds: 20,
            }),
          );
          const sleeper = await own.client.send(
            new ExecuteStatementCommand({ Sql: 'select pg_sleep(1)', SessionId: opened.SessionId }),
          );
          // In process, so the long poll is surely waiting before close() runs.
          const polling = own.emulator.handle('DescribeStatement', {
            Id: sleeper.Id,
            WaitTimeSeconds: 30,
          }) as Promise<{ Status: string; Error?: string }>;

          // Act
          await own.emulator.close();
          const described = await polling;

          // Assess
          expect(described.Status).toBe('FAILED');
          expect(described.Error).toMatch(/was closed \(the emulator stopped\)/);
          expect(own.emulator.stats().activeSessions).toBe(0);
          expect(own.emulator.listSessionIds()).toEqual([]);
        } finally {
          await own.close();
        }
      });
    });

    describe('Database users', () => {
      it('fails the statement of a DbUser that does not exist, as Redshift does', async () => {
        // Act
        const described = await runSql('select current_user', { DbUser: `${run}_nobody` });

        // Assess
        expect(described.Status).toBe('FAILED');
        expect(described.Error).toBe(`FATAL: user "IAM:${run}_nobody" does not exist`);
      });

      it('closes the session a statement of an unknown user would have opened', async () => {
        // Act
        const opened = await client.send(
          new ExecuteStatementCommand({
            ...CONNECTION,
            DbUser: `${run}_nobody`,
            Sql: 'select 1',
            SessionKeepAliveSeconds: 60,
          }),
        );
        const described = await ended(opened.Id as string);
        const next = await rejectionOf(
          client.send(
            new ExecuteStatementCommand({ Sql: 'select 1', SessionId: opened.SessionId }),
          ),
        );

        // Assess
        expect(described.Status).toBe('FAILED');
        expect(next).toBeInstanceOf(ValidationException);
        expect(next.message).toBe('Session is not available');
      });

      it('fails a statement whose secret names a user that does not exist', async () => {
        // Act
        const described = await runSql('select 1', {
          DbUser: undefined,
          SecretArn: `arn:aws:secretsmanager:us-east-1:000000000000:secret:spectra/${run}_gone-AbC123`,
        });

        // Assess
        expect(described.Status).toBe('FAILED');
        expect(described.Error).toBe(
          `FATAL: password authentication failed for user "${run}_gone"`,
        );
      });

      it("treats the engine's superuser as no user: no statement runs as it", async () => {
        // Act
        const described = await runSql('select current_user', { DbUser: 'postgres' });

        // Assess
        expect(described.Status).toBe('FAILED');
        expect(described.Error).toBe('FATAL: user "IAM:postgres" does not exist');
      });

      it("creates a tenant's user that sees the tenant's rows and no other's", async () => {
        // Prepare
        const dbUser = `${run}_acme_reports`;
        const before = await runSql('select 1', { DbUser: dbUser });

        // Act
        const created = await stack.emulator.createTenantUser({ tenantId: 'acme', dbUser });
        const again = await stack.emulator.createTenantUser({ tenantId: 'acme', dbUser });
        const rows = await query('select current_user, count(distinct tenant_id) from sales', {
          DbUser: dbUser,
        });
        const tenants = await query('select distinct tenant_id from listing', { DbUser: dbUser });

        // Assess
        expect(before.Status).toBe('FAILED');
        expect([created, again]).toEqual([true, false]);
        expect(rows).toEqual([[dbUser, 1]]);
        expect(tenants).toEqual([['acme']]);
      });
    });

    describe('Row-level security', () => {
      it.each([...DEMO_TENANTS])(
        'shows tenant %s only its own sales and listings',
        async (tenant) => {
          // Act
          const sales = await query('select distinct tenant_id from sales', {
            DbUser: demoUserOf(tenant),
          });
          const listings = await query('select distinct tenant_id from listing', {
            DbUser: demoUserOf(tenant),
          });

          // Assess
          expect(sales).toEqual([[tenant]]);
          expect(listings).toEqual([[tenant]]);
        },
      );

      it("gives acme none of globex's sales rows, even when asked for them", async () => {
        // Act
        const asked = await query("select count(*) from sales where tenant_id = 'globex'", {
          DbUser: demoUserOf('acme'),
        });
        const own = await query('select count(*) from sales', { DbUser: demoUserOf('acme') });
        const everything = await engine.admin(
          "select count(*) from sales where tenant_id = 'acme'",
        );

        // Assess
        expect(asked).toEqual([[0]]);
        expect(own).toEqual([[Number(everything.rows[0]?.[0])]]);
        expect(own[0]?.[0]).toBeGreaterThan(0);
      });

      it('lets every tenant read the shared reference tables', async () => {
        // Act
        const counts = await query(
          `select (select count(*) from users), (select count(*) from venue), (select count(*) from category),
                  (select count(*) from date), (select count(*) from event)`,
          { DbUser: demoUserOf('initech') },
        );

        // Assess
        expect(counts).toEqual([[1000, 50, 11, 366, 500]]);
      });

      it('lets a tenant create, fill and read its own table, which another tenant cannot read', async () => {
        // Prepare
        const table = `${run}_audit`;

        // Act
        const created = await runSql(`create table ${table} (event text)`, {
          DbUser: demoUserOf('umbrella'),
        });
        const inserted = await runSql(`insert into ${table} values ('login')`, {
          DbUser: demoUserOf('umbrella'),
        });
        const own = await query(`select event from ${table}`, { DbUser: demoUserOf('umbrella') });
        const other = await runSql(`select event from ${table}`, { DbUser: demoUserOf('globex') });

        // Assess
        expect(created.Status).toBe('FINISHED');
        expect(inserted.ResultRows).toBe(1);
        expect(own).toEqual([['login']]);
        expect(other.Status).toBe('FAILED');
        expect(other.Error).toBe(`ERROR: permission denied for table ${table}`);
      });

      it('refuses a tenant writing to the demo tables', async () => {
        // Act
        const described = await runSql("insert into category values (99, 'x', 'y', 'z')", {
          DbUser: demoUserOf('acme'),
        });

        // Assess
        expect(described.Status).toBe('FAILED');
        expect(described.Error).toBe('ERROR: permission denied for table category');
      });
    });
  });
}
