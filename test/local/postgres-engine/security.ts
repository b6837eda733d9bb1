import { beforeAll, describe, expect, it } from 'vitest';
import { engineError } from '../sql-engine-suite.ts';
import type { PostgresEngineSuite } from './context.ts';

/**
 * The PostgreSQL engine (local/redshift-data/postgres-engine.ts): what a tenant's user may read:
 * row-level security, tables not granted, and no way back to another role.
 */

export function describeSecurity({ engine, connect }: PostgresEngineSuite): void {
  describe('Security', () => {
    beforeAll(async () => {
      // Roles first: the table is made after them, so the grant below is the only one it gets.
      await Promise.all([connect('alice'), connect('bob')]);
      await engine().admin(`
        CREATE TABLE tenant_orders (tenant text, amount int);
        INSERT INTO tenant_orders VALUES ('alice', 10), ('alice', 20), ('bob', 30);
        ALTER TABLE tenant_orders ENABLE ROW LEVEL SECURITY;
        CREATE POLICY own_orders ON tenant_orders USING (tenant = current_user);
        GRANT SELECT ON tenant_orders TO PUBLIC;
        CREATE TABLE payroll (salary int);
        INSERT INTO payroll VALUES (1);
      `);
    });

    it('applies row-level security to the tenant', async () => {
      // Prepare
      const [alice, bob] = await Promise.all([connect('alice'), connect('bob')]);

      // Act
      const aliceRows = await alice.run('SELECT tenant, amount FROM tenant_orders ORDER BY 2', []);
      const bobRows = await bob.run('SELECT tenant, amount FROM tenant_orders ORDER BY 2', []);
      const allRows = await engine().admin('SELECT count(*) FROM tenant_orders');

      // Assess: the superuser bypasses the policy and sees every row.
      expect(aliceRows.rows).toEqual([
        ['alice', '10'],
        ['alice', '20'],
      ]);
      expect(bobRows.rows).toEqual([['bob', '30']]);
      expect(allRows.rows).toEqual([['3']]);
    });

    it('denies a table the tenant was not granted', async () => {
      // Prepare
      const alice = await connect('alice');

      // Act
      const error = await engineError(alice.run('SELECT salary FROM payroll', []));

      // Assess
      expect(error.sqlState).toBe('42501');
      expect(error.message).toBe('ERROR: permission denied for table payroll');
    });

    it('stays the tenant after RESET ROLE', async () => {
      // Prepare
      const alice = await connect('alice');

      // Act
      await alice.run('RESET ROLE', []);
      const who = await alice.run('SELECT current_user, session_user', []);
      const error = await engineError(alice.run('SELECT salary FROM payroll', []));

      // Assess
      expect(who.rows).toEqual([['alice', 'alice']]);
      expect(error.sqlState).toBe('42501');
    });

    it.each(['SET ROLE postgres', 'SET SESSION AUTHORIZATION postgres'])(
      'throws a permission error for %s',
      async (escapeAttempt) => {
        // Prepare
        const alice = await connect('alice');

        // Act
        const error = await engineError(alice.run(escapeAttempt, []));
        const who = await alice.run('SELECT current_user, session_user', []);

        // Assess
        expect(error.sqlState).toBe('42501');
        expect(who.rows).toEqual([['alice', 'alice']]);
      },
    );
  });
}
