import {
  DescribeExecutionCommand,
  type DescribeExecutionOutput,
  ExecutionAlreadyExists,
  type HistoryEvent,
  StartExecutionCommand,
  StateMachineDoesNotExist,
} from '@aws-sdk/client-sfn';
import { SpectraClient } from '../../../client/index.ts';
import { sfn } from '../../support/mocked-clients.ts';

/**
 * What SpectraClient's tests share: a client configured against the mocked Step Functions and
 * DynamoDB (test/support/mocked-clients.ts, reset before each test by the project's setup file),
 * one query's execution as DescribeExecution reports it, and history events. Each file of this
 * folder tests one group of the client's methods.
 */

export const STATE_MACHINE_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:spectra-query';
export const EXECUTION_ARN = 'arn:aws:states:eu-west-1:123456789012:execution:spectra-query:run-1';
export const STARTED = new Date('2026-11-28T12:00:00.000Z');
export const STOPPED = new Date('2026-11-28T12:00:01.250Z');
export const INPUT = { tenantId: 'acme', sql: 'select count(*) as sales from sales' };
export const OUTPUT = {
  tenantId: 'acme',
  statementId: 'st-1',
  sessionId: 'sess-1',
  sessionReused: true,
  columns: [{ name: 'sales', type: 'int8' }],
  rows: [[750]],
  rowCount: 1,
  totalRows: 1,
  truncated: false,
};

/** What DescribeExecution answers for INPUT's query when it failed with QueryFailedError. */
export const failedExecution = (cause: Record<string, unknown>) => ({
  status: 'FAILED' as const,
  startDate: STARTED,
  stopDate: STOPPED,
  input: JSON.stringify(INPUT),
  error: 'QueryFailedError',
  cause: JSON.stringify(cause),
});

/**
 * StartExecution refuses the name `run-1` as already taken, and DescribeExecution answers the
 * execution that holds it with `execution`.
 */
export function nameTakenBy(execution: Partial<DescribeExecutionOutput>) {
  sfn
    .on(StartExecutionCommand)
    .rejects(new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} }));
  sfn
    .on(DescribeExecutionCommand, { executionArn: EXECUTION_ARN })
    .resolves({ executionArn: EXECUTION_ARN, ...execution });
}

/** StartExecution answers that the state machine does not exist. */
export const stateMachineMissing = () =>
  sfn
    .on(StartExecutionCommand)
    .rejects(new StateMachineDoesNotExist({ message: 'no', $metadata: {} }));

export const newClient = () =>
  new SpectraClient({
    stateMachineArn: STATE_MACHINE_ARN,
    sessionsTableName: 'sessions-table',
    dbUserTemplate: 'app_{tenant}',
    region: 'eu-west-1',
  });

export function entered(type: string, name: string, seconds: number): HistoryEvent {
  return {
    id: 0,
    type: type as HistoryEvent['type'],
    timestamp: new Date(STARTED.getTime() + seconds * 1000),
    stateEnteredEventDetails: { name },
  };
}

export function plain(type: string, seconds: number): HistoryEvent {
  return {
    id: 0,
    type: type as HistoryEvent['type'],
    timestamp: new Date(STARTED.getTime() + seconds * 1000),
  };
}
