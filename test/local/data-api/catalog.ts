import {
  DescribeTableCommand,
  ExecuteStatementCommand,
  ListDatabasesCommand,
  ListSchemasCommand,
  ListTablesCommand,
  ValidationException,
} from '@aws-sdk/client-redshift-data';
import { describe, expect, it } from 'vitest';
import { DEMO_TABLES, DEMO_TENANTS, loadDemoData } from '../../../local/redshift-data/demo-data.ts';
import { CONNECTION, type DataApiSuite, demoUserOf, rejectionOf } from './context.ts';

/**
 * The local warehouse: the catalog operations, the demo data, the database users that exist in
 * it and the demo data's row-level security.
 */
export function describeCatalog(suite: DataApiSuite): void {
  const { runSql, ended, query, validationMessage, run } = suite;

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
      const opened = await suite.execute({
        DbUser: `${run}_nobody`,
        Sql: 'select 1',
        SessionKeepAliveSeconds: 60,
      });
      const described = await ended(opened.Id as string);
      const next = await rejectionOf(
        suite.client.send(
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
      expect(described.Error).toBe(`FATAL: password authentication failed for user "${run}_gone"`);
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
      const { controls } = suite.stack.emulator;
      const created = await controls.createTenantUser({ tenantId: 'acme', dbUser });
      const again = await controls.createTenantUser({ tenantId: 'acme', dbUser });
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
}
