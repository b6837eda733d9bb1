import type { EventBridgeEvent } from 'aws-lambda';
import { LOCAL_ACCOUNT, LOCAL_REGION } from '../identity.ts';

/**
 * The EventBridge event Step Functions sends when an execution's status changes ("Step Functions
 * Execution Status Change"), as the deployed rule hands it to CancelStoppedExecution.
 */
export type ExecutionStatusChangeEvent = EventBridgeEvent<
  'Step Functions Execution Status Change',
  {
    executionArn: string;
    stateMachineArn: string;
    name: string;
    status: 'FAILED' | 'ABORTED' | 'TIMED_OUT';
    /** Epoch milliseconds. */
    startDate: number;
    stopDate: number;
    input: string;
    inputDetails: { included: boolean };
    output: null;
    outputDetails: null;
    error: string | null;
    cause: string | null;
    redriveCount: number;
  }
>;

/** What the local Step Functions knows of an execution that has just ended unsuccessfully. */
export interface StoppedExecution {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: 'FAILED' | 'ABORTED' | 'TIMED_OUT';
  startedAt: number;
  stoppedAt: number;
  input: string;
  error?: string;
  cause?: string;
  redriveCount: number;
}

/** The event EventBridge delivers for `stopped`, as the deployed rule hands it on. */
export function statusChangeEvent(stopped: StoppedExecution): ExecutionStatusChangeEvent {
  return {
    version: '0',
    id: crypto.randomUUID(),
    'detail-type': 'Step Functions Execution Status Change',
    source: 'aws.states',
    account: LOCAL_ACCOUNT,
    // EventBridge writes whole seconds.
    time: new Date(stopped.stoppedAt).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: LOCAL_REGION,
    resources: [stopped.executionArn],
    detail: {
      executionArn: stopped.executionArn,
      stateMachineArn: stopped.stateMachineArn,
      name: stopped.name,
      status: stopped.status,
      startDate: stopped.startedAt,
      stopDate: stopped.stoppedAt,
      input: stopped.input,
      inputDetails: { included: true },
      output: null,
      outputDetails: null,
      error: stopped.error ?? null,
      cause: stopped.cause ?? null,
      redriveCount: stopped.redriveCount,
    },
  };
}
