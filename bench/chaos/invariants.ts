import type { SessionData, StatementData } from '@aws-sdk/client-redshift-data';
import { ERROR_NAMES } from '../../functions/common/errors.ts';
import type { SessionRecord } from '../../functions/common/session-record.ts';
import type { BadInputResult } from './bad-inputs.ts';

/**
 * The promises a chaos run checks, each from what the public APIs report afterwards: Step
 * Functions (how each execution ended), the tenants' audit tables (what was really inserted), the
 * Data API's statements and sessions (what ran where, as whom, when) and the sessions table.
 */

export interface ExecutionRecord {
  name: string;
  /** `dirt`: an execution that leaves state in its session (or is refused for trying). */
  kind: 'insert' | 'select' | 'dirt';
  /** For `dirt`: what it does (see DIRT in chaos.ts). */
  dirt?: string;
  jobIndex: number;
  tenantId: string;
  /** The audit id the job inserts and selects. */
  id: string;
  executionArn: string;
  status: string;
  error?: string;
  cause?: Record<string, unknown>;
  output?: Record<string, unknown>;
  /** Still RUNNING at its timeout (then stopped by the harness). */
  hung: boolean;
  stoppedByChaos: boolean;
}

export interface Invariant {
  holds: boolean;
  [count: string]: unknown;
}

export type Invariants = Record<string, Invariant>;

export interface InvariantInputs {
  records: ExecutionRecord[];
  statements: StatementData[];
  sessions: SessionData[];
  sessionRecords: SessionRecord[];
  /** Every id in each tenant's audit table, one entry per row. */
  auditRows: Map<string, string[]>;
  /** The tenant's database user, as the functions derive it (dbUserFor and the template). */
  dbUserOf: (tenantId: string) => string;
  now: Date;
  /** Statements the Data API refused because their session was running another one. */
  busyRejections: number;
  /** Sessions the chaos closed: refusals of these are expected, and are not busy rejections. */
  expiredByChaos: Set<string>;
  lambdasStillRunning: number;
  /** Sessions still open when the run ended, closed before the audit tables were read. */
  sessionsClosedBeforeRead: number;
  /** The ids of those sessions: the pool must hold each, or have dropped it by a stated rule. */
  openAtEnd: string[];
  /** The pools' sizes sampled through the run, and the caps they must stay under. */
  poolSamples: {
    samples: number;
    largestPool: number;
    largestPoolId: string;
    largestTotal: number;
  };
  caps: { perTenant: number; total: number };
  badInputs?: { cases: number; refused: number; failures: BadInputResult[] };
}

/** The names a failed execution may end with; StaleSessionError is always recovered from. */
const NAMED_ERRORS = new Set<string>(ERROR_NAMES.filter((name) => name !== 'StaleSessionError'));
const EXAMPLES = 10;
const time = (date: Date | undefined) => date?.getTime() ?? Number.NaN;

function examples<T>(items: T[]): T[] {
  return items.slice(0, EXAMPLES);
}

export function checkInvariants(inputs: InvariantInputs): Invariants {
  const { records, statements, sessions, sessionRecords, auditRows, dbUserOf } = inputs;
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

  // 6. No lease is left held once everything ended.
  const now = inputs.now.toISOString();
  const leased = sessionRecords.filter((r) => r.state === 'LEASED');
  const live = leased.filter((r) => r.lease_expires_at !== undefined && r.lease_expires_at > now);
  const noLeaseLeft: Invariant = {
    holds: live.length === 0,
    sessionRecords: sessionRecords.length,
    leased: leased.length,
    liveLeases: live.length,
    examples: examples(live).map((r) => {
      const owner = r.lease_owner ? byArn.get(r.lease_owner) : undefined;
      return {
        sessionId: r.session_id,
        owner: owner?.name ?? r.lease_owner,
        ownerStatus: owner?.status,
        stoppedByChaos: owner?.stoppedByChaos,
      };
    }),
  };

  // 7. No session serves two tenants: every statement on a session ran for the tenant whose db
  // user opened it, and every pool record points at a session of its own db user.
  const sessionUser = new Map(sessions.map((s) => [s.SessionId as string, s.DbUser]));
  const tenantsOfSession = new Map<string, Set<string>>();
  const crossings: string[] = [];
  let onSessions = 0;
  for (const [name, list] of statementsOf) {
    const record = byName.get(name) as ExecutionRecord;
    for (const statement of list) {
      if (!statement.SessionId) continue;
      onSessions++;
      const tenants = tenantsOfSession.get(statement.SessionId) ?? new Set();
      tenants.add(record.tenantId);
      tenantsOfSession.set(statement.SessionId, tenants);
      const user = sessionUser.get(statement.SessionId);
      if (user !== dbUserOf(record.tenantId))
        crossings.push(
          `${name} (${record.tenantId}) ran on session ${statement.SessionId} of ${user}`,
        );
    }
  }
  for (const [sessionId, tenants] of tenantsOfSession)
    if (tenants.size > 1) crossings.push(`session ${sessionId} served ${[...tenants].join(', ')}`);
  for (const record of sessionRecords) {
    const user = sessionUser.get(record.session_id);
    if (user !== undefined && user !== record.db_user)
      crossings.push(`pool ${record.pool_id} holds session ${record.session_id} of ${user}`);
  }
  const noTenantCrossing: Invariant = {
    holds: crossings.length === 0,
    sessions: tenantsOfSession.size,
    statementsOnSessions: onSessions,
    poolRecords: sessionRecords.length,
    crossings: crossings.length,
    examples: examples(crossings),
  };

  // 8. No session ran statements of two executions at once: on each session, a statement starts
  // only after the one before it ended (Data API timestamps).
  const bySession = new Map<string, StatementData[]>();
  for (const statement of statements) {
    if (!statement.SessionId) continue;
    bySession.set(statement.SessionId, [...(bySession.get(statement.SessionId) ?? []), statement]);
  }
  const overlaps: string[] = [];
  for (const [sessionId, list] of bySession) {
    const ordered = [...list].sort((a, b) => time(a.CreatedAt) - time(b.CreatedAt));
    for (let i = 1; i < ordered.length; i++) {
      const previous = ordered[i - 1] as StatementData;
      const current = ordered[i] as StatementData;
      if (time(current.CreatedAt) < time(previous.UpdatedAt))
        overlaps.push(
          `session ${sessionId}: ${current.StatementName ?? current.Id} started before ${previous.StatementName ?? previous.Id} ended`,
        );
    }
  }
  const noConcurrentSessionUse: Invariant = {
    holds: overlaps.length === 0,
    sessions: bySession.size,
    statements: [...bySession.values()].reduce((n, list) => n + list.length, 0),
    overlaps: overlaps.length,
    examples: examples(overlaps),
  };

  // 9. No statement was sent to a session busy with another: the Data API counts those apart
  // from refusals of sessions that were closed (which the chaos causes on purpose).
  const noBusySessionStatement: Invariant = {
    holds: inputs.busyRejections === 0,
    busyRejections: inputs.busyRejections,
    sessionsClosedByChaos: inputs.expiredByChaos.size,
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

  // 14. No pool above its cap at any sampled instant, nor every pool together above the total.
  const { poolSamples, caps } = inputs;
  const noPoolAboveItsCap: Invariant = {
    holds: poolSamples.largestPool <= caps.perTenant && poolSamples.largestTotal <= caps.total,
    samples: poolSamples.samples,
    largestPool: poolSamples.largestPool,
    largestPoolId: poolSamples.largestPoolId,
    capPerTenant: caps.perTenant,
    largestTotal: poolSamples.largestTotal,
    capTotal: caps.total,
  };

  // 15. Once the run ends, every Data API session still open is one the pool holds, or one it
  // dropped by a rule it states: its SQL left state in it (a dirtying execution ran on it), or a
  // failed execution's statement was left to finish on it for a redrive.
  const held = new Set(sessionRecords.map((r) => r.session_id));
  const executionsOn = new Map<string, ExecutionRecord[]>();
  for (const [name, list] of statementsOf)
    for (const statement of list)
      if (statement.SessionId)
        executionsOn.set(statement.SessionId, [
          ...(executionsOn.get(statement.SessionId) ?? []),
          byName.get(name) as ExecutionRecord,
        ]);
  const outside = inputs.openAtEnd.filter((id) => !held.has(id));
  const dirtied = outside.filter((id) =>
    (executionsOn.get(id) ?? []).some((r) => r.kind === 'dirt'),
  );
  const leftForRedrive = outside.filter(
    (id) =>
      !dirtied.includes(id) && (executionsOn.get(id) ?? []).some((r) => r.status === 'FAILED'),
  );
  const strays = outside.filter((id) => !dirtied.includes(id) && !leftForRedrive.includes(id));
  const noSessionOutsideThePool: Invariant = {
    holds: strays.length === 0,
    openAtEnd: inputs.openAtEnd.length,
    heldByThePool: inputs.openAtEnd.length - outside.length,
    droppedAfterDirt: dirtied.length,
    leftToAFailedExecutionsStatement: leftForRedrive.length,
    strays: strays.length,
    examples: examples(strays).map((id) => ({
      sessionId: id,
      executions: (executionsOn.get(id) ?? []).map((r) => `${r.name} ${r.status}`),
    })),
  };

  const invariants: Invariants = {
    'every-execution-ends': everyExecutionEnds,
    'insert-exactly-once': insertExactlyOnce,
    'no-id-twice': noIdTwice,
    'failed-left-nothing': failedLeftNothing,
    'status-matches-data': statusMatchesData,
    'no-lease-left': noLeaseLeft,
    'no-tenant-crossing': noTenantCrossing,
    'no-concurrent-session-use': noConcurrentSessionUse,
    'no-busy-session-statement': noBusySessionStatement,
    'selects-see-inserts': selectsSeeInserts,
    'no-session-state-observed': noStateObserved,
    'dirt-refused-or-dropped': dirtHandled,
    'no-pool-above-its-cap': noPoolAboveItsCap,
    'no-session-outside-the-pool': noSessionOutsideThePool,
    // Insert-exactly-once reads the audit tables after every session closed: a write that only an
    // open transaction held would be gone.
    'writes-survive-session-close': {
      holds: insertExactlyOnce.holds,
      sessionsClosedBeforeRead: inputs.sessionsClosedBeforeRead,
      succeededInserts: insertExactlyOnce.succeededInserts,
      missing: insertExactlyOnce.missing,
    },
  };
  if (inputs.badInputs) {
    invariants['bad-input-refused'] = {
      holds: inputs.badInputs.failures.length === 0,
      cases: inputs.badInputs.cases,
      refused: inputs.badInputs.refused,
      examples: examples(inputs.badInputs.failures).map((f) => ({
        name: f.name,
        error: f.error,
        message: f.message,
        dynamoDbCalls: f.dynamoDbCalls,
        dataApiCalls: f.dataApiCalls,
      })),
    };
  }
  return invariants;
}
