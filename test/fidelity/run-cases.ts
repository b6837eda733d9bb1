import {
  BatchExecuteStatementCommand,
  DescribeStatementCommand,
  type DescribeStatementResponse,
  type Field,
  GetStatementResultCommand,
  RedshiftDataClient,
} from '@aws-sdk/client-redshift-data';
import { startEndpoint } from '../../local/endpoint.ts';
import { createRedshiftDataEmulator } from '../../local/redshift-data/emulator.ts';
import type { SqlEngine } from '../../local/redshift-data/sql-engine.ts';
import { FIDELITY_CASES, type FidelityCase, SHARED_SETUP, type Value } from './cases.ts';

/**
 * Runs the fidelity cases on one engine, through the Data API emulator as a user of the AWS SDK
 * sees it: one stack per engine, each case one BatchExecuteStatement (its setup, then its SQL),
 * one after the other (PGlite shares SET between sessions, so order matters there).
 */

/** The database user the cases run as: a user who may create tables and schemas. */
export const FIDELITY_DB_USER = 'fidelity_user';

export interface CaseOutcome {
  case: FidelityCase;
  /** Gives Redshift's documented answer. */
  passed: boolean;
  /**
   * Does what the case expects locally: the documented answer, or, for what is not emulated
   * ({@link FidelityCase.local}), a failure that says so.
   */
  asExpected: boolean;
  /** What the emulator did instead, when it did not. */
  reason?: string;
  /** The statement's error, when it failed. */
  error?: string;
}

const DOUBLE_TOLERANCE = 1e-9;

function fieldValueOf(field: Field): Value {
  if (field.isNull) return null;
  if (field.booleanValue !== undefined) return field.booleanValue;
  if (field.longValue !== undefined) return field.longValue;
  if (field.doubleValue !== undefined) return field.doubleValue;
  return field.stringValue ?? null;
}

function sameValue(actual: Value, expected: Value): boolean {
  if (typeof expected === 'number') {
    const number = typeof actual === 'string' && actual.trim() !== '' ? Number(actual) : actual;
    if (typeof number !== 'number' || Number.isNaN(number)) return false;
    const scale = Math.max(1, Math.abs(expected));
    return Math.abs(number - expected) <= DOUBLE_TOLERANCE * scale;
  }
  return actual === expected;
}

/** Whether the rows match, and where they do not. */
function compareRows(actual: Value[][], expected: Value[][]): string | undefined {
  if (actual.length !== expected.length)
    return `${actual.length} rows, documented ${expected.length}: ${JSON.stringify(actual.slice(0, 3))}`;
  for (let row = 0; row < expected.length; row++) {
    const got = actual[row] ?? [];
    const want = expected[row] ?? [];
    if (
      got.length !== want.length ||
      want.some((value, column) => !sameValue(got[column] ?? null, value))
    )
      return `row ${row + 1} is ${JSON.stringify(got)}, documented ${JSON.stringify(want)}`;
  }
  return undefined;
}

export interface FidelityStack {
  client: RedshiftDataClient;
  close(): Promise<void>;
}

/** An emulator on `engine` behind its own endpoint, with the suite's user and shared tables. */
export async function startFidelityStack(engine: SqlEngine): Promise<FidelityStack> {
  const emulator = await createRedshiftDataEmulator({ engine });
  const endpoint = await startEndpoint({ port: 0, services: [emulator] });
  const client = new RedshiftDataClient({
    endpoint: endpoint.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  await engine.createUser(FIDELITY_DB_USER);
  await engine.admin(
    `DO $$ BEGIN EXECUTE format('GRANT CREATE ON DATABASE %I TO ${FIDELITY_DB_USER}', current_database()); END $$`,
  );
  const stack = {
    client,
    async close() {
      client.destroy();
      await endpoint.close();
    },
  };
  const shared = await runBatch(client, SHARED_SETUP);
  if (shared.Status !== 'FINISHED') throw new Error(`The shared setup failed: ${shared.Error}`);
  return stack;
}

async function runBatch(
  client: RedshiftDataClient,
  sqls: string[],
): Promise<DescribeStatementResponse> {
  const { Id } = await client.send(
    new BatchExecuteStatementCommand({
      ClusterIdentifier: 'spectra-local',
      Database: 'dev',
      DbUser: FIDELITY_DB_USER,
      Sqls: sqls,
      WaitTimeSeconds: 30,
    }),
  );
  for (;;) {
    const described = await client.send(new DescribeStatementCommand({ Id, WaitTimeSeconds: 30 }));
    if (['FINISHED', 'FAILED', 'ABORTED'].includes(described.Status ?? '')) return described;
  }
}

export async function runCase(
  client: RedshiftDataClient,
  fidelityCase: FidelityCase,
): Promise<CaseOutcome> {
  const sqls = [...(fidelityCase.setup ?? []), fidelityCase.sql];
  const described = await runBatch(client, sqls);
  const outcome = (passed: boolean, reason?: string): CaseOutcome => {
    const { local } = fidelityCase;
    const failedAsSaid =
      local !== undefined &&
      described.Status === 'FAILED' &&
      (described.Error ?? '').includes(local);
    return {
      case: fidelityCase,
      passed,
      asExpected: local === undefined ? passed : !passed && failedAsSaid,
      reason,
      error: described.Error,
    };
  };
  if (fidelityCase.error !== undefined) {
    if (described.Status !== 'FAILED') return outcome(false, 'succeeded where Redshift fails');
    return (described.Error ?? '').includes(fidelityCase.error)
      ? outcome(true)
      : outcome(false, `failed otherwise: ${described.Error}`);
  }
  if (described.Status !== 'FINISHED') return outcome(false, `failed: ${described.Error}`);
  const last = described.SubStatements?.at(-1);
  if (fidelityCase.rows === undefined && fidelityCase.columns === undefined) return outcome(true);
  if (!last?.HasResultSet) return outcome(false, 'returned no result set');
  const result = await client.send(new GetStatementResultCommand({ Id: last.Id }));
  const names = (result.ColumnMetadata ?? []).map((column) => column.name ?? '');
  if (fidelityCase.columns && JSON.stringify(names) !== JSON.stringify(fidelityCase.columns))
    return outcome(
      false,
      `columns ${JSON.stringify(names)}, documented ${JSON.stringify(fidelityCase.columns)}`,
    );
  if (fidelityCase.rows) {
    const rows = (result.Records ?? []).map((record) => record.map(fieldValueOf));
    const mismatch = compareRows(rows, fidelityCase.rows);
    if (mismatch) return outcome(false, mismatch);
  }
  return outcome(true);
}

export async function runCases(
  client: RedshiftDataClient,
  cases: FidelityCase[] = FIDELITY_CASES,
): Promise<CaseOutcome[]> {
  const outcomes: CaseOutcome[] = [];
  for (const each of cases) outcomes.push(await runCase(client, each));
  return outcomes;
}

/** Passed out of run, for the documented examples and for the suite's own checks apart. */
export function passRate(outcomes: CaseOutcome[]) {
  const documented = outcomes.filter((each) => !each.case.own);
  const own = outcomes.filter((each) => each.case.own);
  const passed = (list: CaseOutcome[]) => list.filter((each) => each.passed).length;
  return {
    documented: { passed: passed(documented), total: documented.length },
    own: { passed: passed(own), total: own.length },
  };
}
