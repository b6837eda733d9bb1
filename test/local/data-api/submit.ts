import { ExecuteStatementCommand } from '@aws-sdk/client-redshift-data';
import { describe, expect, it } from 'vitest';
import { type DataApiSuite, demoUserOf, UUID } from './context.ts';

/** ExecuteStatement: answers, long polls, connection fields, parameters and validation. */
export function describeSubmit(suite: DataApiSuite): void {
  const { submit, ended, runSql, rowsOf, query, validationMessage } = suite;

  describe('Operation: ExecuteStatement', () => {
    it('answers at once with the statement SUBMITTED and runs it afterwards', async () => {
      // Act
      const response = await suite.execute({ Sql: 'select 1 as one' });
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
      const response = await suite.execute({ Sql: 'select 1', WaitTimeSeconds: 20 });

      // Assess
      expect(response.Status).toBe('FINISHED');
      expect(response.HasResultSet).toBe(true);
      expect(response.RedshiftPid).toBeGreaterThan(0);
    });

    it('answers with the current status when WaitTimeSeconds passes first', async () => {
      // Prepare: the statement runs until the test releases it
      const held = suite.holdStatements();

      // Act
      const response = await suite.execute({ Sql: held.sql(), WaitTimeSeconds: 1 });
      held.release();
      const described = await ended(response.Id as string);

      // Assess
      expect(['SUBMITTED', 'PICKED', 'STARTED']).toContain(response.Status);
      expect(described.Status).toBe('FINISHED');
    });

    it('accepts a WorkgroupName instead of a ClusterIdentifier', async () => {
      // Act
      const response = await suite.client.send(
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
      await suite.engine.createUser('secret_user');
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
        const message = await validationMessage(suite.execute({ Sql: 'select 1', ...change }));

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
}
