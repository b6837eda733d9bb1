import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe } from 'vitest';
import type { SqlEngine } from '../../local/redshift-data/sql-engine.ts';
import { describeBatch } from './data-api/batch.ts';
import { describeCatalog } from './data-api/catalog.ts';
import { type DataApiStack, dataApiSuite, startDataApiStack } from './data-api/context.ts';
import { describeResults } from './data-api/results.ts';
import { describeSessions } from './data-api/sessions.ts';
import { describeStatements } from './data-api/statements.ts';
import { describeSubmit } from './data-api/submit.ts';

/**
 * The Redshift Data API emulator as a user of the AWS SDK sees it, whatever engine runs the SQL:
 * the real `RedshiftDataClient` over HTTP against the local endpoint. The parts follow the
 * emulator's operations (test/local/data-api/); each engine's test file runs them all. Engine-
 * specific behaviour (temporary-table isolation between sessions, a cancel that really stops
 * PostgreSQL) belongs in the engine's own test file.
 */

export {
  CONNECTION,
  type DataApiStack,
  endedOn,
  executeOn,
  fieldValue,
  rejectionOf,
  sessionStatusOn,
  startDataApiStack,
} from './data-api/context.ts';

export function describeDataApiSuite(name: string, makeEngine: () => Promise<SqlEngine>): void {
  describe(`Redshift Data API emulator on ${name}`, () => {
    let engine: SqlEngine | undefined;
    let stack: DataApiStack | undefined;
    const suite = dataApiSuite(`t${randomUUID().slice(0, 8)}`, () => {
      if (!engine || !stack) throw new Error('The suite has not started');
      return { engine, stack };
    });

    beforeAll(async () => {
      engine = await makeEngine();
      stack = await startDataApiStack(engine, { resultPageRows: 250 });
    });

    afterAll(async () => {
      await stack?.close();
      await engine?.close();
    });

    describeSubmit(suite);
    describeStatements(suite);
    describeResults(suite);
    describeBatch(suite);
    describeSessions(suite);
    describeCatalog(suite);
  });
}
