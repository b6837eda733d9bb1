import {
  DescribeTableCommand,
  ListDatabasesCommand,
  ListSchemasCommand,
  ListTablesCommand,
} from '@aws-sdk/client-redshift-data';
import { describe, expect, it } from 'vitest';
import { DEMO_TABLES, DEMO_TENANTS, loadDemoData } from '../../../local/redshift-data/demo-data.ts';
import { CONNECTION, type DataApiSuite } from './context.ts';

/** The local warehouse: the catalog operations, the demo data and its row-level security. */
export function describeCatalog(suite: DataApiSuite): void {
  const { runSql, query, validationMessage, run } = suite;

  describe('Catalog operations', () => {
    it('lists the one database', async () => {
      // Act
      const listed = await suite.client.send(new ListDatabasesCommand(CONNECTION));

      // Assess
      expect(listed.Databases).toEqual(['dev']);
    });

    it('lists schemas matching a pattern', async () => {
      // Act
      const matching = await suite.client.send(
        new ListSchemasCommand({ ...CONNECTION, SchemaPattern: 'pub%' }),
      );
      const all = await suite.client.send(new ListSchemasCommand(CONNECTION));

      // Assess
      expect(matching.Schemas).toEqual(['public']);
      expect(all.Schemas).toEqual(
        expect.arrayContaining(['information_schema', 'pg_catalog', 'public']),
      );
    });

    it('lists the demo tables, filtered by patterns and paged', async () => {
      // Act
      const sales = await suite.client.send(
        new ListTablesCommand({ ...CONNECTION, SchemaPattern: 'public', TablePattern: 'sal%' }),
      );
      const publicTables = await suite.client.send(
        new ListTablesCommand({ ...CONNECTION, SchemaPattern: 'public' }),
      );
      const firstPage = await suite.client.send(
        new ListTablesCommand({ ...CONNECTION, SchemaPattern: 'public', MaxResults: 2 }),
      );
      const systemView = await suite.client.send(
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
      const described = await suite.client.send(
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
      const described = await suite.client.send(
        new DescribeTableCommand({ ...CONNECTION, Schema: 'public', Table: 'date' }),
      );

      // Assess
      expect(described.ColumnList?.find((column) => column.name === 'holiday')?.columnDefault).toBe(
        'false',
      );
    });

    it('returns no columns for a table that does not exist', async () => {
      // Act
      const described = await suite.client.send(
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
      const message = await validationMessage(suite.client.send(command() as any));

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
      const result = await suite.engine.admin(digests.join(' union all '));
      return result.rows;
    }

    it('loads the same rows every time', async () => {
      // Prepare
      const before = await fingerprint();

      // Act
      await loadDemoData(suite.engine);
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

  describe('Row-level security', () => {
    it.each([...DEMO_TENANTS])(
      'shows tenant %s only its own sales and listings',
      async (tenant) => {
        // Act
        const sales = await query('select distinct tenant_id from sales', { DbUser: tenant });
        const listings = await query('select distinct tenant_id from listing', {
          DbUser: tenant,
        });

        // Assess
        expect(sales).toEqual([[tenant]]);
        expect(listings).toEqual([[tenant]]);
      },
    );

    it("gives acme none of globex's sales rows, even when asked for them", async () => {
      // Act
      const asked = await query("select count(*) from sales where tenant_id = 'globex'", {
        DbUser: 'acme',
      });
      const own = await query('select count(*) from sales', { DbUser: 'acme' });
      const everything = await suite.engine.admin(
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
        { DbUser: 'initech' },
      );

      // Assess
      expect(counts).toEqual([[1000, 50, 11, 366, 500]]);
    });

    it('lets a tenant create, fill and read its own table, which another tenant cannot read', async () => {
      // Prepare
      const table = `${run}_audit`;

      // Act
      const created = await runSql(`create table ${table} (event text)`, { DbUser: 'umbrella' });
      const inserted = await runSql(`insert into ${table} values ('login')`, {
        DbUser: 'umbrella',
      });
      const own = await query(`select event from ${table}`, { DbUser: 'umbrella' });
      const other = await runSql(`select event from ${table}`, { DbUser: 'globex' });

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
        DbUser: 'acme',
      });

      // Assess
      expect(described.Status).toBe('FAILED');
      expect(described.Error).toBe('ERROR: permission denied for table category');
    });
  });
}
