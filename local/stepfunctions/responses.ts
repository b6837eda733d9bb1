import { type ExecutionRecord, type RegisteredStateMachine, seconds } from './model.ts';

/**
 * The shapes in which Step Functions' API answers with a state machine or an execution: the
 * Describe* responses and the summaries of the List* pages.
 */

const secondsIfSet = (ms: number | undefined) => (ms === undefined ? undefined : seconds(ms));

export interface Redrivability {
  redrivable: boolean;
  reason?: string;
}

/** What every answer about an execution starts with. */
function executionOf(record: ExecutionRecord) {
  return {
    executionArn: record.arn,
    stateMachineArn: record.stateMachine.arn,
    name: record.name,
    status: record.status,
    startDate: seconds(record.startedAt),
    stopDate: secondsIfSet(record.stoppedAt),
  };
}

export function describeExecution(record: ExecutionRecord, redrivability: Redrivability) {
  return {
    ...executionOf(record),
    input: record.input,
    inputDetails: { included: true },
    output: record.output,
    outputDetails: record.output === undefined ? undefined : { included: true },
    error: record.error,
    cause: record.cause,
    redriveCount: record.redriveCount,
    redriveDate: secondsIfSet(record.redriveDate),
    redriveStatus: redrivability.redrivable ? 'REDRIVABLE' : 'NOT_REDRIVABLE',
    redriveStatusReason: redrivability.reason,
  };
}

export function executionSummary(record: ExecutionRecord) {
  return {
    ...executionOf(record),
    redriveCount: record.redriveCount,
    redriveDate: secondsIfSet(record.redriveDate),
  };
}

export function describeStateMachine(stateMachine: RegisteredStateMachine) {
  return {
    stateMachineArn: stateMachine.arn,
    name: stateMachine.name,
    status: 'ACTIVE',
    definition: stateMachine.definitionText,
    roleArn: stateMachine.roleArn,
    type: 'STANDARD',
    creationDate: seconds(stateMachine.createdAt),
    loggingConfiguration: { level: 'OFF', includeExecutionData: false },
    tracingConfiguration: { enabled: false },
  };
}

export function stateMachineSummary(stateMachine: RegisteredStateMachine) {
  return {
    stateMachineArn: stateMachine.arn,
    name: stateMachine.name,
    type: 'STANDARD',
    creationDate: seconds(stateMachine.createdAt),
  };
}
