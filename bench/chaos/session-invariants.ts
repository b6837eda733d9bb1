import type { StatementData } from '@aws-sdk/client-redshift-data';
import { examples, type RunView, time } from './invariant-view.ts';
import type { ExecutionRecord, Invariant, InvariantInputs } from './invariants.ts';

/**
 * The invariants of the pool: no lease left held, no session serving two tenants or two
 * executions at once, none sent a statement while busy, no pool above its cap, and no session
 * left open outside the pool without a rule that says why.
 */

export function sessionInvariants(inputs: InvariantInputs, view: RunView) {
  const { statements, sessions, sessionRecords, dbUserOf } = inputs;
  const { byName, byArn, statementsOf } = view;

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

  return {
    noLeaseLeft,
    noTenantCrossing,
    noConcurrentSessionUse,
    noBusySessionStatement,
    noPoolAboveItsCap,
    noSessionOutsideThePool,
  };
}
