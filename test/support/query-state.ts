import { HISTORY_EVENTS_AT_MOST } from '../../functions/common/polling.ts';
import type {
  Query,
  QueryState,
  StatementState,
  SubmittedState,
} from '../../functions/common/workflow-state.ts';
import type { SubmitQueryEvent } from '../../functions/submit.ts';
import { EXECUTION_ARN, NOW } from './unit-deps.ts';

/** The deadline of {@link queryOf}'s query: an hour after the unit tests' clock. */
export const DEADLINE = new Date(NOW.getTime() + 3600_000).toISOString();

/** What the state keeps of a query, as AcquireSession writes it (the SQL stays in the input). */
export function queryOf(fields: Partial<Query> = {}): Query {
  return {
    tenantId: 'acme',
    dbUser: 'tenant_acme',
    leavesSessionState: false,
    timeoutSeconds: 3600,
    deadline: DEADLINE,
    ...fields,
  };
}

/** A workflow state as AcquireSession returns it. */
export function acquiredState(fields: Partial<QueryState> = {}): QueryState {
  return {
    executionArn: EXECUTION_ARN,
    query: queryOf(),
    session: { sessionId: null, reused: false },
    submitAttempt: 0,
    resubmits: 0,
    historyEventsBound: HISTORY_EVENTS_AT_MOST.executionStarted + HISTORY_EVENTS_AT_MOST.acquire,
    ...fields,
  };
}

/** A workflow state as the steps after SubmitQuery see it. */
export function runningState(
  statement: Partial<StatementState> = {},
  fields: Partial<QueryState> = {},
): SubmittedState {
  return {
    ...acquiredState({
      session: { sessionId: 'sess-1', reused: true, createdAt: '2026-11-28T11:00:00.000Z' },
      ...fields,
    }),
    statement: fields.statement ?? {
      statementId: 'st-1',
      status: 'STARTED',
      waitSeconds: 0,
      polls: 0,
      submittedAt: NOW.toISOString(),
      ...statement,
    },
  };
}

/** What the state machine hands SubmitQuery: the execution input (`request`) and the state. */
export function submitEvent(
  request: Record<string, unknown>,
  fields: Partial<QueryState> = {},
): SubmitQueryEvent {
  return { request, state: acquiredState(fields) };
}
