import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PostgresServer, startPostgres } from '../../local/postgres-cluster.ts';
import { createPgliteEngine } from '../../local/redshift-data/pglite-engine.ts';
import { createPostgresEngine } from '../../local/redshift-data/postgres-engine.ts';
import type { SqlEngine } from '../../local/redshift-data/sql-engine.ts';
import { FIDELITY_CASES } from './cases.ts';
import { type CaseOutcome, type FidelityStack, runCases, startFidelityStack } from './run-cases.ts';

/**
 * The emulator against the Redshift Database Developer Guide's documented examples, on both
 * engines: each case must give the guide's answer (its rows, column names and failures), or, for
 * what is not emulated, fail saying so. One stack per engine; the cases run once, in order, and
 * each test reads its own outcome.
 */

const label = (index: number) => {
  const each = FIDELITY_CASES[index];
  const kind = each?.own ? 'check' : each?.local ? 'not emulated' : 'guide';
  return `${kind} ${each?.page}: ${each?.sql.replace(/\s+/g, ' ').slice(0, 80)}`;
};

function describeEngine(
  name: string,
  start: () => Promise<{ engine: SqlEngine; stop(): Promise<void> }>,
) {
  describe(`Fidelity: Redshift's documented examples on ${name}`, () => {
    let started: { engine: SqlEngine; stop(): Promise<void> } | undefined;
    let stack: FidelityStack | undefined;
    let outcomes: CaseOutcome[] = [];

    beforeAll(async () => {
      started = await start();
      stack = await startFidelityStack(started.engine);
      outcomes = await runCases(stack.client);
    }, 300_000);

    afterAll(async () => {
      await stack?.close();
      await started?.stop();
    });

    it.each(FIDELITY_CASES.map((_, index) => [label(index), index]))('%s', (_label, index) => {
      const outcome = outcomes[index as number];
      expect(outcome, 'the case ran').toBeDefined();
      if (outcome?.case.local === undefined) {
        expect(outcome?.reason).toBeUndefined();
        expect(outcome?.passed).toBe(true);
      } else {
        // Not emulated: a failure that says so, never another answer.
        expect(outcome?.error).toContain(outcome.case.local);
        expect(outcome?.asExpected).toBe(true);
      }
    });
  });
}

describeEngine('PGlite', async () => {
  const engine = await createPgliteEngine();
  return { engine, stop: () => engine.close() };
});

describeEngine('PostgreSQL', async () => {
  const server: PostgresServer = await startPostgres();
  const engine = await createPostgresEngine(server.url);
  return {
    engine,
    async stop() {
      await engine.close();
      await server.stop();
    },
  };
});
