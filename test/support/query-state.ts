import type { QueryState, StatementState } from '../../functions/common/schemas.ts';
import { EXECUTION_ARN } from './unit-deps.ts';

/** A workflow state as the steps after SubmitQuery see it. */
export function runningState(
  statement: Partial<StatementState> = {},
  fields: Partial<QueryState> = {},
): QueryState {
  return {
    executionArn: EXECUTION_ARN,
    query: { tenantId: 'acme', dbUser: 'tenant_acme', sql: 'select * from sales' },
    session: { sessionId: 'sess-1', reused: true, createdAt: '2026-11-28T11:00:00.000Z' },
    submitAttempt: 0,
    resubmits: 0,
    statement: { statementId: 'st-1', status: 'STARTED', waitSeconds: 0, polls: 0, ...statement },
    ...fields,
  };
}
