import { DescribeStatementCommand, ListSessionsCommand } from '@aws-sdk/client-redshift-data';
import { GetExecutionHistoryCommand, type HistoryEvent, SFNClient } from '@aws-sdk/client-sfn';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  type CancelStoppedExecutionDeps,
  parseStoppedExecution,
} from '../../../functions/cancel-stopped-execution.ts';
import type { SessionRecord } from '../../../functions/common/session-record.ts';
import { ddb, pooledSession, redshift, resetClients, sfn } from '../../support/mocked-clients.ts';
import { runningState } from '../../support/query-state.ts';
import { cancelSucceeds } from '../../support/service-answers.ts';
import { EXECUTION_ARN, unitDeps } from '../../support/unit-deps.ts';

export const INPUT = JSON.stringify({ tenantId: 'acme', sql: 'select * from sales' });
export const ENDED_AT = new Date('2026-11-28T11:59:58.000Z');

/** The EventBridge event for an execution stopped with StopExecution. */
export function abortedEvent(detail: Record<string, unknown> = {}) {
  return {
    version: '0',
    id: 'c4a8f3b2-0000-4000-8000-000000000000',
    'detail-type': 'Step Functions Execution Status Change',
    source: 'aws.states',
    account: '000000000000',
    time: '2026-11-28T12:00:00Z',
    region: 'us-east-1',
    resources: [EXECUTION_ARN],
    detail: {
      executionArn: EXECUTION_ARN,
      stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:spectra-query',
      name: 'run-1',
      status: 'ABORTED',
      input: INPUT,
      inputDetails: { included: true },
      output: null,
      ...detail,
    },
  };
}

/** What the handler reads from {@link abortedEvent}: the core's input. */
export const stoppedExecution = (detail: Record<string, unknown> = {}) =>
  parseStoppedExecution(abortedEvent(detail));

/** A lambda:invoke TaskSucceeded event as AWS records it: the whole invocation result as text. */
export function taskSucceeded(id: number, payload: unknown): HistoryEvent {
  return {
    id,
    type: 'TaskSucceeded',
    timestamp: new Date('2026-11-28T11:59:50.000Z'),
    taskSucceededEventDetails: {
      resourceType: 'lambda',
      resource: 'invoke',
      output: JSON.stringify({ ExecutedVersion: '$LATEST', Payload: payload, StatusCode: 200 }),
    },
  };
}

export const event = (id: number, type: HistoryEvent['type']): HistoryEvent => ({
  id,
  type,
  timestamp: new Date('2026-11-28T11:59:55.000Z'),
});

export const executionStarted: HistoryEvent = {
  id: 1,
  type: 'ExecutionStarted',
  timestamp: new Date('2026-11-28T11:59:40.000Z'),
  executionStartedEventDetails: { input: INPUT },
};

/** Newest first, as GetExecutionHistory returns with reverseOrder: stopped during PollStatus. */
export const stoppedWhilePolling: HistoryEvent[] = [
  event(12, 'ExecutionAborted'),
  event(11, 'TaskStarted'),
  event(10, 'TaskScheduled'),
  event(9, 'TaskStateEntered'),
  taskSucceeded(7, runningState()),
  event(6, 'TaskStarted'),
  event(5, 'TaskScheduled'),
  taskSucceeded(3, { ...runningState(), statement: undefined }),
  executionStarted,
];

/** The pool's session `sess-1`, leased to the stopped execution. */
export const leasedRecord = (fields: Partial<SessionRecord> = {}): SessionRecord =>
  pooledSession({
    state: 'LEASED',
    lease_owner: EXECUTION_ARN,
    lease_expires_at: '2026-11-28T12:04:00.000Z',
    ...fields,
  });

/** What the clean-up did with the session the execution held, as its outcome says. */
export const RELEASED = { sessionReleased: true, sessionInvalidated: false };
export const INVALIDATED = { sessionReleased: false, sessionInvalidated: true };
export const UNTOUCHED = { sessionReleased: false, sessionInvalidated: false };

export const poolKey = { pool_id: 'acme#tenant_acme', session_id: 'sess-1' };
export const recordKey = { pool_id: `#execution#${EXECUTION_ARN}`, session_id: 'execution' };
export const RESERVATION = {
  claim: 'claim-3',
  slot: 3,
  totalSlot: 30,
  reservedAt: '2026-11-28T11:59:41.000Z',
};

/** The execution's record as the clean-up's mark returns it: what the steps wrote before the stop. */
export function recordSays(fields: Record<string, unknown>) {
  ddb.on(UpdateCommand, { Key: recordKey }).resolves({
    Attributes: { ...recordKey, execution_arn: EXECUTION_ARN, stopped_run: 0, ...fields },
  });
}

/**
 * What Submit Query recorded when it opened a session on the reserved slots and sent `statementId`
 * on it, before it could write the session to the pool.
 */
export const submittedOnOpenedSession = (statementId: string) => ({
  tenant_id: 'acme',
  submit_run: 0,
  submit_attempt: 0,
  submit_session: 'none',
  statement_id: statementId,
  statement_run: 0,
  statement_attempt: 0,
  reservation: RESERVATION,
  reservation_run: 0,
  opening_claim: RESERVATION.claim,
  opening_run: 0,
});

/** Stopped inside Submit Query, before it returned: the history names no statement. */
export const stoppedWhileSubmitting: HistoryEvent[] = [
  event(8, 'ExecutionAborted'),
  event(7, 'TaskStarted'),
  event(6, 'TaskScheduled'),
  taskSucceeded(3, {
    ...runningState(),
    session: { sessionId: null, reused: false, reservation: RESERVATION },
    statement: undefined,
  }),
  executionStarted,
];

/**
 * The statement `statementId` runs when the clean-up first asks; CancelStatement stops it, and it
 * has ended ABORTED when asked again.
 */
export function runsUntilCancelled(statementId: string, running: Record<string, unknown> = {}) {
  redshift
    .on(DescribeStatementCommand)
    .resolvesOnce({ Id: statementId, Status: 'STARTED', ...running })
    .resolves({ Id: statementId, Status: 'ABORTED', UpdatedAt: ENDED_AT });
  cancelSucceeds();
}

export function cancelDeps() {
  const { deps, count } = unitDeps({}, undefined, async () => undefined);
  const cancel: CancelStoppedExecutionDeps = { ...deps, sfn: new SFNClient({}) };
  return { deps: cancel, count };
}

/** The history Step Functions answers for the execution. */
export const historyIs = (events: HistoryEvent[]) =>
  sfn.on(GetExecutionHistoryCommand).resolves({ events });

/**
 * The history of an execution stopped before any statement was submitted: its first task
 * returned a state without one, and `later` (newest first) came after it.
 */
export const abortedBeforeAnyStatement = (...later: HistoryEvent[]): HistoryEvent[] => [
  ...later,
  taskSucceeded(3, { ...runningState(), statement: undefined }),
  executionStarted,
];

/**
 * What every test starts from: the execution was stopped while polling, holding `sess-1` leased,
 * which the Data API says runs nothing.
 */
export function stoppedWhilePollingOnLeasedSession() {
  resetClients([leasedRecord()]);
  historyIs(stoppedWhilePolling);
  // The Data API says the session runs nothing once its statement has ended.
  redshift
    .on(ListSessionsCommand)
    .resolves({ Sessions: [{ SessionId: 'sess-1', Status: 'AVAILABLE', CreatedAt: ENDED_AT }] });
}
