import { describe, expect, it } from 'vitest';
import { createPostgresEngine } from '../../../local/redshift-data/postgres-engine.ts';
import { engineError } from '../sql-engine-suite.ts';
import type { PostgresEngineSuite } from './context.ts';

/**
 * The PostgreSQL engine (local/redshift-data/postgres-engine.ts): logging in as a tenant's own
 * user, and creating users.
 */

export function describeLogins({ engine, connect, serverUrl }: PostgresEngineSuite): void {
  describe('Method: connect', () => {
    it('logs in as the user itself, so the session user is the tenant', async () => {
      // Act
      const alice = await connect('alice');
      const session = await alice.run(
        'SELECT session_user, current_user, rolsuper FROM pg_roles WHERE rolname = session_user',
        [],
      );
      const backend = await engine().admin('SELECT usename FROM pg_stat_activity WHERE pid = $1', [
        String(alice.backendPid),
      ]);

      // Assess
      expect(session.rows).toEqual([['alice', 'alice', 'f']]);
      expect(backend.rows).toEqual([['alice']]);
    });

    it('grants a new user only what PUBLIC has: no table of another user', async () => {
      // Prepare
      await engine().admin('CREATE TABLE demo_venue (venueid int, venuename text)');
      await engine().admin("INSERT INTO demo_venue VALUES (1, 'Hall')");
      await engine().admin('CREATE TABLE demo_private (secret text)');
      await engine().admin('GRANT SELECT ON demo_venue TO PUBLIC');

      // Act
      const carol = await connect('carol');
      const shared = await carol.run('SELECT venuename FROM demo_venue', []);
      const refused = await engineError(carol.run('SELECT secret FROM demo_private', []));

      // Assess
      expect(shared.rows).toEqual([['Hall']]);
      expect(refused.message).toBe('ERROR: permission denied for table demo_private');
    });

    it('refuses to log in as a user that does not exist, and never creates one', async () => {
      // Act
      const error = await engineError(engine().connect('frank'));
      const role = await engine().admin('SELECT 1 FROM pg_roles WHERE rolname = $1', ['frank']);

      // Assess
      expect(error.message).toBe('FATAL: role "frank" does not exist');
      expect(error.sqlState).toBe('28000');
      expect(role.rows).toEqual([]);
    });

    it('says whether createUser created the user', async () => {
      // Act
      const first = await engine().createUser('grace');
      const second = await engine().createUser('grace');

      // Assess
      expect([first, second]).toEqual([true, false]);
    });

    it('lets the user create tables in public', async () => {
      // Prepare
      const carol = await connect('carol');

      // Act
      await carol.run('CREATE TABLE carol_notes (note text)', []);
      const owner = await engine().admin(
        "SELECT tableowner FROM pg_tables WHERE schemaname = 'public' AND tablename = 'carol_notes'",
      );

      // Assess
      expect(owner.rows).toEqual([['carol']]);
    });

    it('creates the same role from parallel createUser calls on separate engines', async () => {
      // Prepare: separate engines have separate admin connections, so their CREATE ROLE and
      // GRANT statements really run at the same time.
      const engines = await Promise.all(
        Array.from({ length: 4 }, () => createPostgresEngine(serverUrl())),
      );

      try {
        // Act
        await Promise.all(engines.map((each) => each.createUser('dave')));
        const parallel = await Promise.all(engines.map((each) => each.connect('dave')));
        const users = await Promise.all(
          parallel.map((connection) => connection.run('SELECT session_user', [])),
        );

        // Assess
        expect(users.map((result) => result.rows)).toEqual(Array(4).fill([['dave']]));
      } finally {
        await Promise.all(engines.map((each) => each.close()));
      }
    });

    it.each([
      ['an upper-case letter', 'Alice'],
      ['a leading digit', '1alice'],
      ['a double quote', 'al"ice'],
      ['a semicolon', 'alice;drop'],
      ['a hyphen', 'alice-b'],
      ['nothing', ''],
      ['128 characters', 'a'.repeat(128)],
    ])('throws EngineError for a user name with %s', async (_case, dbUser) => {
      // Act
      const error = await engineError(engine().connect(dbUser));
      const creating = await engineError(engine().createUser(dbUser));

      // Assess
      expect(error.message).toMatch(/^ERROR: invalid user name/);
      expect(creating.message).toMatch(/^ERROR: invalid user name/);
      const role = await engine().admin('SELECT 1 FROM pg_roles WHERE rolname = $1', [dbUser]);
      expect(role.rows).toEqual([]);
    });

    it('accepts the characters Redshift user names may have', async () => {
      // Act
      const connection = await connect('_etl$job_2');
      const result = await connection.run('SELECT session_user', []);

      // Assess
      expect(result.rows).toEqual([['_etl$job_2']]);
    });
  });
}
