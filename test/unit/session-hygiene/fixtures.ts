import { DescribeStatementCommand } from '@aws-sdk/client-redshift-data';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { leavesSessionState } from '../../../functions/common/execution-input.ts';
import type { QueryState } from '../../../functions/common/workflow-state.ts';
import { ddb, pooledSession, redshift, resetClients } from '../../support/mocked-clients.ts';
import { queryOf, submitEvent } from '../../support/query-state.ts';

/** The pooled session, the requests and the Data API answers the session-hygiene tests share. */

export const FAILED_TRANSACTION =
  'ERROR: current transaction is aborted, commands ignored until end of transaction block';

export const idleSession = pooledSession();

export async function refusal(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

/** Submit Query's event for `request` (the execution input, which holds the SQL). */
export function submitted(
  request: { sql?: string; statements?: string[]; [field: string]: unknown },
  session: QueryState['session'],
) {
  const input = { tenantId: 'acme', ...request };
  return submitEvent(input, {
    query: queryOf({
      leavesSessionState: leavesSessionState(input),
      batchSize: batchSizeOf(input),
    }),
    session,
  });
}

const batchSizeOf = (input: { statements?: string[] }) => input.statements?.length;

export const reused = { sessionId: 'sess-1', reused: true, createdAt: '2026-11-28T11:00:00.000Z' };
export const miss = { sessionId: null, reused: false };

/** What every test starts from: the tenant's pool holds `idleSession`. */
export function idlePool() {
  resetClients([idleSession]);
  ddb.on(GetCommand).resolves({});
  // Submit Query's long-poll finds the statement ended.
  redshift.on(DescribeStatementCommand).resolves({ Status: 'FINISHED' });
}
