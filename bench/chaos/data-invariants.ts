import { ERROR_NAMES } from '../../functions/common/errors.ts';
import { examples, type RunView } from './invariant-view.ts';
import type { Invariant, InvariantInputs } from './invariants.ts';

/**
 * The invariants of what the executions did to the data: each ends, every INSERT's row is there
 * once (or not at all when it failed, unless its statement committed), the Data API's statuses
 * match the rows, SELECTs see what their INSERT left, and dirt is refused or kept out of the pool.
 */

/** The names a failed execution may end with; StaleSessionError is always recovered from. */
const NAMED_ERRORS = new Set<string>(ERROR_NAMES.filter((name) => name !== 'StaleSessionError'));

export function dataInvariants(inputs: InvariantInputs, view: RunView) {
  const { records, sessionRecords } = inputs;
  const { inserts, rowsById, misplaced, rowsOf, statementsOf, finishedOf } = view;

  // 1. Every execution ends, in time, with a named error if it failed.
  const endings = new Set(['SUCCEEDED', 'FAILED', 'ABORTED']);
  const hung = records.filter((r) => r.hung);
  const unended = records.filter((r) => !r.hung && !endings.has(r.status));
  const unnamed = records.filter((r) => r.status === 'FAILED' && !NAMED_ERRORS.has(r.error ?? ''));
  const everyExecutionEnds: Invariant = {
    holds:
      hung.length === 0 &&
      unended.length === 0 &&
      unnamed.length === 0 &&
      inputs.lambdasStillRunning === 0,
    executions: records.length,
    ended: records.length - hung.length - unended.length,
    hung: hung.length,
    endedOtherwise: unended.length,
    failedWithoutNamedError: unnamed.length,
    lambdasStillRunning: inputs.lambdasStillRunning,
    examples: examples([...hung, ...unended, ...unnamed]).map((r) => ({
      name: r.name,
      status: r.status,
      error: r.error,
      cause: r.cause,
    })),
  };

  // 2. Every succeeded INSERT's id is there exactly once.
  const succeededInserts = inserts.filter((r) => r.status === 'SUCCEEDED');
  const notOnce = succeededInserts.filter((r) => rowsOf(r.id) !== 1);
  const insertExactlyOnce: Invariant = {
    holds: notOnce.length === 0,
    succeededInserts: succeededInserts.length,
    exactlyOnce: succeededInserts.length - notOnce.length,
    missing: notOnce.filter((r) => rowsOf(r.id) === 0).length,
    duplicated: notOnce.filter((r) => rowsOf(r.id) > 1).length,
    examples: examples(notOnce).map((r) => ({ name: r.name, rows: rowsOf(r.id) })),
  };

  // 3. No id twice, and none in a table it does not belong to.
  const twice = [...rowsById].filter(([, n]) => n > 1);
  const noIdTwice: Invariant = {
    holds: twice.length === 0 && misplaced.length === 0,
    rows: [...rowsById.values()].reduce((sum, n) => sum + n, 0),
    distinctIds: rowsById.size,
    idsTwice: twice.length,
    misplacedOrUnknown: misplaced.length,
    examples: examples([...twice.map(([id, n]) => `${id} x${n}`), ...misplaced]),
  };

  // 4. A failed INSERT left no row, unless the Data API reports its statement committed.
  const failedInserts = inserts.filter((r) => r.status === 'FAILED');
  const leftRow = failedInserts.filter((r) => rowsOf(r.id) > 0);
  const leftRowUncommitted = leftRow.filter((r) => finishedOf(r.name) === 0);
  const failedLeftNothing: Invariant = {
    holds: leftRowUncommitted.length === 0,
    failedInserts: failedInserts.length,
    leftNoRow: failedInserts.length - leftRow.length,
    leftRowReportedCommitted: leftRow.length - leftRowUncommitted.length,
    leftRowNotReportedCommitted: leftRowUncommitted.length,
    examples: examples(leftRowUncommitted).map((r) => ({
      name: r.name,
      error: r.error,
      statements: (statementsOf.get(r.name) ?? []).map((s) => s.Status),
    })),
  };

  // 5. What the Data API reports matches the data: an INSERT execution has as many rows as it
  // has FINISHED statements (FAILED and ABORTED ones left nothing), whatever the execution's end.
  const mismatched = inserts.filter((r) => rowsOf(r.id) !== finishedOf(r.name));
  const aborted = inserts.filter((r) => r.status === 'ABORTED');
  const statusMatchesData: Invariant = {
    holds: mismatched.length === 0,
    insertExecutions: inserts.length,
    statementsChecked: inserts.reduce((n, r) => n + (statementsOf.get(r.name)?.length ?? 0), 0),
    mismatches: mismatched.length,
    abortedInserts: aborted.length,
    abortedWithCommittedRow: aborted.filter((r) => rowsOf(r.id) > 0).length,
    examples: examples(mismatched).map((r) => ({
      name: r.name,
      execution: r.status,
      error: r.error,
      statements: (statementsOf.get(r.name) ?? []).map((s) => s.Status),
      rows: rowsOf(r.id),
    })),
  };

  // 10. A SELECT run after its INSERT ended sees what the INSERT left: one row after a success,
  // none after a failure (an aborted INSERT's statement may still be running, so at most its rows).
  const selects = records.filter((r) => r.kind === 'select' && r.status === 'SUCCEEDED');
  const insertOf = new Map(inserts.map((r) => [r.id, r]));
  const unseen: string[] = [];
  for (const select of selects) {
    const rows = (select.output?.rows as unknown[][] | undefined) ?? [];
    const copies = Number(rows[0]?.[0]);
    const insert = insertOf.get(select.id);
    const expected = rowsOf(select.id);
    const wrong =
      insert?.status === 'ABORTED'
        ? !(copies <= expected)
        : copies !== expected || (insert?.status === 'SUCCEEDED' && copies !== 1);
    if (wrong)
      unseen.push(
        `${select.name} saw ${copies}, the table has ${expected} (insert ${insert?.status})`,
      );
  }
  const selectsSeeInserts: Invariant = {
    holds: unseen.length === 0,
    succeededSelects: selects.length,
    mismatches: unseen.length,
    examples: examples(unseen),
  };

  // 11. No execution observes session state it did not create: every SELECT also probes its
  // session for what the dirt executions leave (search_path, a temporary table, a custom setting).
  const observed = selects.filter((r) => {
    const [, searchPath, tempTable, marker] = ((r.output?.rows as unknown[][]) ?? [])[0] ?? [];
    return searchPath === 'pg_catalog' || tempTable === true || (marker !== null && marker !== '');
  });
  const noStateObserved: Invariant = {
    holds: observed.length === 0,
    probedSelects: selects.length,
    observedDirt: observed.length,
    examples: examples(observed).map((r) => ({ name: r.name, rows: r.output?.rows })),
  };

  // 12. Dirt is refused (transaction control) or runs and fails as SQL would (a failing
  // statement); settings and temporary tables run, and their sessions leave the pool.
  const dirt = records.filter((r) => r.kind === 'dirt' && !r.stoppedByChaos);
  const pooled = new Set(sessionRecords.map((record) => record.session_id));
  const wrongDirt = dirt.filter((r) => {
    if (r.dirt === 'begin') return r.status !== 'FAILED' || r.error !== 'InvalidInputError';
    if (r.dirt === 'fail') return r.status === 'SUCCEEDED';
    const sessionId = r.output?.sessionId;
    return r.status === 'SUCCEEDED' && typeof sessionId === 'string' && pooled.has(sessionId);
  });
  const dirtHandled: Invariant = {
    holds: wrongDirt.length === 0,
    dirtExecutions: dirt.length,
    byKind: dirt.reduce<Record<string, number>>((tally, r) => {
      tally[r.dirt ?? '?'] = (tally[r.dirt ?? '?'] ?? 0) + 1;
      return tally;
    }, {}),
    mishandled: wrongDirt.length,
    examples: examples(wrongDirt).map((r) => ({
      name: r.name,
      dirt: r.dirt,
      status: r.status,
      error: r.error,
    })),
  };

  return {
    everyExecutionEnds,
    insertExactlyOnce,
    noIdTwice,
    failedLeftNothing,
    statusMatchesData,
    selectsSeeInserts,
    noStateObserved,
    dirtHandled,
  };
}
