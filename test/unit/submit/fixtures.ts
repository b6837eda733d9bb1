import { DescribeStatementCommand, ExecuteStatementCommand } from '@aws-sdk/client-redshift-data';
import type { QueryState } from '../../../functions/common/workflow-state.ts';
import { redshift } from '../../support/mocked-clients.ts';
import { queryOf, submitEvent } from '../../support/query-state.ts';
import { EXECUTION_ARN } from '../../support/unit-deps.ts';

/** Submit Query's events, the slots and record it writes, and the statements the Data API runs. */

/** The slots AcquireSession reserved for the session this submission opens. */
export const RESERVATION = {
  claim: 'claim-1',
  slot: 1,
  totalSlot: 17,
  reservedAt: '2026-11-28T11:59:59.000Z',
};
export const slotKeys = [
  { pool_id: '#slot#acme#acme', session_id: '1' },
  { pool_id: '#total-slot#cluster/analytics', session_id: '17' },
];
export const recordKey = { pool_id: `#execution#${EXECUTION_ARN}`, session_id: 'execution' };
export { conditionFailed } from '../../support/service-answers.ts';

const REQUEST = {
  tenantId: 'acme',
  sql: 'select :region',
  parameters: [{ name: 'region', value: 'eu' }],
};

/**
 * Submit Query's event for the default request, on the tenant `acme` whose user is `acme`, with
 * the slots of a new session reserved.
 */
export const state = (fields: Partial<QueryState> = {}) =>
  submitEvent(REQUEST, {
    query: queryOf({ dbUser: 'acme' }),
    session: { sessionId: null, reused: false, reservation: RESERVATION },
    ...fields,
  });
export const reusing = (sessionId = '11111111-2222-3333-4444-555555555555') =>
  state({ session: { sessionId, reused: true, createdAt: '2026-11-28T11:00:00.000Z' } });

/** ExecuteStatement answers at once with `submitted`, the statement `st-1` unless it names another. */
export function statementSubmitted(submitted: Record<string, unknown>) {
  redshift.on(ExecuteStatementCommand).resolves({ Id: 'st-1', ...submitted });
}

/** ExecuteStatement answers at once with `submitted`; the long-poll after it finds `polled`. */
export function statementGoes(submitted: Record<string, unknown>, polled = submitted) {
  statementSubmitted(submitted);
  redshift.on(DescribeStatementCommand).resolves({ Id: 'st-1', ...polled });
}
