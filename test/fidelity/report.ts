import { startPostgres } from '../../local/postgres-cluster.ts';
import { createPgliteEngine } from '../../local/redshift-data/pglite-engine.ts';
import { createPostgresEngine } from '../../local/redshift-data/postgres-engine.ts';
import type { SqlEngine } from '../../local/redshift-data/sql-engine.ts';
import { passRate, runCases, startFidelityStack } from './run-cases.ts';

/**
 * `npm run fidelity`: runs the fidelity cases on both engines and prints the pass rates and what
 * did not give Redshift's answer (the numbers the README reports).
 */

async function onEngine(name: string, engine: SqlEngine): Promise<void> {
  const stack = await startFidelityStack(engine);
  try {
    const outcomes = await runCases(stack.client);
    const rate = passRate(outcomes);
    console.log(
      `${name}: documented examples ${rate.documented.passed}/${rate.documented.total}, own checks ${rate.own.passed}/${rate.own.total}`,
    );
    for (const outcome of outcomes.filter((each) => !each.passed || !each.asExpected))
      console.log(
        `  ${outcome.asExpected ? 'not emulated' : 'DIFFERS'} (${outcome.case.own ? 'own check' : 'guide'}) ${outcome.case.page}: ${outcome.case.sql.replace(/\s+/g, ' ').slice(0, 90)}\n      ${outcome.reason ?? outcome.error}`,
      );
  } finally {
    await stack.close();
  }
}

const only = process.argv[2];
if (only !== 'postgres') {
  const pglite = await createPgliteEngine();
  await onEngine('PGlite', pglite).finally(() => pglite.close());
}
if (only !== 'pglite') {
  const server = await startPostgres();
  const postgres = await createPostgresEngine(server.url);
  await onEngine('PostgreSQL', postgres).finally(async () => {
    await postgres.close();
    await server.stop();
  });
}
