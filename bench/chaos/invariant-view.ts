import type { StatementData } from '@aws-sdk/client-redshift-data';
import type { InvariantInputs } from './invariants.ts';

/**
 * What every invariant of a chaos run reads: the executions by name and by ARN, the INSERTs, the
 * audit rows per id, and the statements each execution ran, matched by the statement name it
 * carries. Built once per check.
 */

const EXAMPLES = 10;

/** At most the first few of `items`, as an invariant's examples. */
export function examples<T>(items: T[]): T[] {
  return items.slice(0, EXAMPLES);
}

export const time = (date: Date | undefined) => date?.getTime() ?? Number.NaN;

export type RunView = ReturnType<typeof viewOf>;

export function viewOf(inputs: InvariantInputs) {
  const { records, statements, auditRows } = inputs;
  const byName = new Map(records.map((r) => [r.name, r]));
  const byArn = new Map(records.map((r) => [r.executionArn, r]));
  const inserts = records.filter((r) => r.kind === 'insert');

  // Rows per id, over every tenant's table; and ids found in the wrong tenant's table.
  const rowsById = new Map<string, number>();
  const misplaced: string[] = [];
  const jobTenant = new Map(inserts.map((r) => [r.id, r.tenantId]));
  for (const [tenantId, ids] of auditRows) {
    for (const id of ids) {
      rowsById.set(id, (rowsById.get(id) ?? 0) + 1);
      if (jobTenant.get(id) !== tenantId) misplaced.push(`${id} in ${tenantId}`);
    }
  }
  const rowsOf = (id: string) => rowsById.get(id) ?? 0;

  // The statements each execution ran, matched by the statement name it carries.
  const statementsOf = new Map<string, StatementData[]>();
  for (const statement of statements) {
    const name = statement.StatementName;
    if (name === undefined || !byName.has(name)) continue;
    statementsOf.set(name, [...(statementsOf.get(name) ?? []), statement]);
  }
  const finishedOf = (name: string) =>
    (statementsOf.get(name) ?? []).filter((s) => s.Status === 'FINISHED').length;
  return { byName, byArn, inserts, rowsById, misplaced, rowsOf, statementsOf, finishedOf };
}
