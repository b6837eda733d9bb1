import { describe, expect, it, onTestFinished } from 'vitest';
import { engineError } from '../sql-engine-suite.ts';
import { closeGate, type PostgresEngineSuite } from './context.ts';

/**
 * The PostgreSQL engine (local/redshift-data/postgres-engine.ts): each connection a session of its
 * own: statements of two users at once, temporary tables and settings kept in their connection, and
 * cancelling a running statement.
 */

export function describeSessions({ engine, connect }: PostgresEngineSuite): void {
  describe('Sessions', () => {
    it('runs two users’ statements at the same time', async () => {
      // Prepare: both wait for a lock the test holds, so both run until it lets them go on.
      // statement_timestamp() is when the statement began; clock_timestamp() is read after the
      // wait, which OFFSET 0 makes a subquery of its own that runs first.
      const [alice, bob] = await Promise.all([connect('alice'), connect('bob')]);
      const gate = await closeGate(engine());
      const gated = `SELECT extract(epoch FROM statement_timestamp()) AS started,
          extract(epoch FROM clock_timestamp()) AS ended
        FROM (SELECT ${gate.waitSql} OFFSET 0) AS waited`;

      // Act
      const both = Promise.all([alice.run(gated, []), bob.run(gated, [])]);
      await gate.untilWaiting([alice.backendPid, bob.backendPid]);
      await gate.open();
      const [a, b] = await both;

      // Assess: each began before the other ended, so they overlapped.
      const [aStarted, aEnded] = (a.rows[0] ?? []).map(Number);
      const [bStarted, bEnded] = (b.rows[0] ?? []).map(Number);
      expect(aStarted).toBeLessThan(bEnded ?? Number.NaN);
      expect(bStarted).toBeLessThan(aEnded ?? Number.NaN);
    });

    it('keeps a temporary table inside the connection that created it', async () => {
      // Prepare: the same user twice, so only the session separates them.
      const first = await connect('alice');
      const second = await connect('alice');
      await first.run('CREATE TEMP TABLE scratch (x int)', []);
      await first.run('INSERT INTO scratch VALUES (1)', []);

      // Act
      const own = await first.run('SELECT x FROM scratch', []);
      const error = await engineError(second.run('SELECT x FROM scratch', []));

      // Assess
      expect(own.rows).toEqual([['1']]);
      expect(error.sqlState).toBe('42P01');
      expect(error.message).toBe('ERROR: relation "scratch" does not exist');
    });

    it('keeps SET inside the connection', async () => {
      // Prepare
      const first = await connect('alice');
      const second = await connect('alice');

      // Act
      await first.run("SET search_path TO 'pg_catalog'", []);
      const own = await first.run('SHOW search_path', []);
      const other = await second.run('SHOW search_path', []);

      // Assess
      expect(own.rows).toEqual([['pg_catalog']]);
      expect(other.rows).toEqual([['"$user", public']]);
    });
  });

  describe('Method: cancel', () => {
    it('stops a running statement, which then fails with SQLSTATE 57014', async () => {
      // Prepare: a statement that waits for a lock the test holds, so it runs until the cancel
      const alice = await connect('alice');
      const gate = await closeGate(engine());
      onTestFinished(async () => {
        await gate.open();
      });
      const running = alice.run(`SELECT ${gate.waitSql}`, []);
      // Attach the handler now; the rejection arrives only after the cancel below.
      const rejected = engineError(running);
      await gate.untilWaiting([alice.backendPid]);

      // Act
      const cancelled = await alice.cancel();
      const error = await rejected;

      // Assess
      expect(cancelled).toBe(true);
      expect(error.sqlState).toBe('57014');
      expect(error.message).toBe('ERROR: canceling statement due to user request');
      const after = await alice.run('SELECT 1', []);
      expect(after.rows).toEqual([['1']]);
    });

    it('answers false for a closed connection, whose pid may be another session’s by now', async () => {
      // Prepare
      await engine().createUser('alice');
      const closing = await engine().connect('alice');
      await closing.close();

      // Act
      const cancelled = await closing.cancel();

      // Assess
      expect(cancelled).toBe(false);
    });
  });
}
