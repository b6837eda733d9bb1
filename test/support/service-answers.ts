import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  ActiveSessionsExceededException,
  CancelStatementCommand,
  DescribeStatementCommand,
  type DescribeStatementResponse,
  ExecuteStatementCommand,
  type ExecuteStatementOutput,
  ListSessionsCommand,
  type SessionStatusString,
  type StatusString,
  ValidationException,
} from '@aws-sdk/client-redshift-data';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { CANCEL_WAIT_SECONDS } from '../../functions/common/stopped-statement.ts';
import { ddb, redshift } from './mocked-clients.ts';

/**
 * What the mocked Data API and sessions table answer, by what a unit test prepares: the
 * statement's status, a cancel, the Data API's session limit, a lease the pool no longer holds.
 * Each answer replaces the one before it for the same request; the statement is `st-1` unless
 * `fields` name another `Id`. The tests read them through one namespace, `answers`, so that a line
 * that prepares what a mocked service answers says so where it starts.
 */

type Described = Partial<DescribeStatementResponse>;

/** DescribeStatement answers, to every poll, that the statement is `status`, with `fields`. */
export function statementIs(status: StatusString, fields: Described = {}): void {
  redshift.on(DescribeStatementCommand).resolves({ Id: 'st-1', Status: status, ...fields });
}

/** DescribeStatement answers that the statement failed with Redshift's `error` text. */
export const statementFails = (error: string, fields: Described = {}) =>
  statementIs('FAILED', { Error: error, ...fields });

/**
 * DescribeStatement answers the poll that waits for a cancel to take (`CANCEL_WAIT_SECONDS`) that
 * the statement is `status`; other polls keep the answer {@link statementIs} gave.
 */
export function statementAfterCancelIs(status: StatusString, fields: Described = {}): void {
  redshift
    .on(DescribeStatementCommand, { WaitTimeSeconds: CANCEL_WAIT_SECONDS })
    .resolves({ Id: 'st-1', Status: status, ...fields });
}

/**
 * The statement runs until it is cancelled, however often it is described: STARTED, then ABORTED
 * once a CancelStatement was sent, which succeeds.
 */
export function statementRunsUntilCancelled(): void {
  redshift.on(DescribeStatementCommand).callsFake(() => ({
    Id: 'st-1',
    Status: redshift.commandCalls(CancelStatementCommand).length > 0 ? 'ABORTED' : 'STARTED',
  }));
  cancelSucceeds();
}

/** CancelStatement answers that the cancel was taken. */
export function cancelSucceeds(): void {
  redshift.on(CancelStatementCommand).resolves({ Status: true });
}

/** CancelStatement answers that the cancel did not take (`Status: false`). */
export function cancelNotTaken(): void {
  redshift.on(CancelStatementCommand).resolves({ Status: false });
}

/**
 * CancelStatement is refused as the Data API refuses a statement that ended before the cancel
 * reached it.
 */
export function cancelFindsStatementEnded(statementId = 'st-1'): void {
  redshift.on(CancelStatementCommand).rejects(
    new ValidationException({
      message: `Could not cancel a query that is already in FINISHED state with ID: ${statementId}`,
      $metadata: { httpStatusCode: 400 },
    }),
  );
}

/**
 * ExecuteStatement refuses to open a session, the Data API being at its limit of active sessions,
 * and submits a statement without one, answering `submitted`.
 */
export function sessionLimitReached(submitted: ExecuteStatementOutput): void {
  redshift.on(ExecuteStatementCommand).callsFake((input) => {
    if (input.SessionKeepAliveSeconds) {
      throw new ActiveSessionsExceededException({ message: 'Too many sessions', $metadata: {} });
    }
    return submitted;
  });
}

/** ListSessions answers that the Data API holds session `sessionId` as `status`. */
export function sessionIs(sessionId: string, status: SessionStatusString, createdAt: Date): void {
  redshift.on(ListSessionsCommand).resolves({
    Sessions: [{ SessionId: sessionId, Status: status, CreatedAt: createdAt }],
  });
}

/** What DynamoDB answers a write whose condition did not hold. */
export const conditionFailed = () =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

/** Every update of the sessions table fails its condition: the lease is no longer held. */
export function leaseNoLongerHeld(): void {
  ddb.on(UpdateCommand).rejects(conditionFailed());
}
