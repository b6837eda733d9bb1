import { ExecutionRedriveFilter, ExecutionStatus, IncludedData } from '@aws-sdk/client-sfn';
import type { MemberRule, RequestRules } from '../service-model.ts';

/**
 * The constraints the Step Functions model puts on the members of the operations the local
 * service answers (lengths, ranges, enums), which the SDK's schemas leave out; see
 * service-model.ts. Written from the Step Functions API Reference's shapes (Arn, Name, PageSize,
 * PageToken, SensitiveError, SensitiveCause, ClientToken, TraceHeader); the enums' values are the
 * SDK's. A new operation's members get their rules here.
 */

const arn: MemberRule = { minLength: 1, maxLength: 256 };
const pageSize: MemberRule = { min: 0, max: 1000 };
const pageToken: MemberRule = { minLength: 1, maxLength: 3096 };

export const STEP_FUNCTIONS_RULES: RequestRules = {
  StartExecution: {
    stateMachineArn: arn,
    name: { minLength: 1, maxLength: 80 },
    traceHeader: { maxLength: 256 },
  },
  DescribeExecution: {
    executionArn: arn,
    includedData: { values: Object.values(IncludedData) },
  },
  ListExecutions: {
    stateMachineArn: arn,
    mapRunArn: { minLength: 1, maxLength: 2000 },
    statusFilter: { values: Object.values(ExecutionStatus) },
    redriveFilter: { values: Object.values(ExecutionRedriveFilter) },
    maxResults: pageSize,
    nextToken: pageToken,
  },
  GetExecutionHistory: { executionArn: arn, maxResults: pageSize, nextToken: pageToken },
  StopExecution: {
    executionArn: arn,
    error: { maxLength: 256 },
    cause: { maxLength: 32768 },
  },
  RedriveExecution: {
    executionArn: arn,
    clientToken: { minLength: 1, maxLength: 64, pattern: /^[a-zA-Z0-9\-_]+$/ },
  },
  DescribeStateMachine: { stateMachineArn: arn },
  DescribeStateMachineForExecution: { executionArn: arn },
  ListStateMachines: { maxResults: pageSize, nextToken: pageToken },
};
