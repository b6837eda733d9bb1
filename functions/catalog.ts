/**
 * The Lambda functions the state machine calls, in one list for the CDK app and the local stack:
 * the name each is deployed under, its source file, and the placeholder in
 * `statemachine/query.asl.json` that its ARN replaces.
 */
export const FUNCTIONS = [
  { name: 'AcquireSession', entry: 'functions/acquire-session.ts' },
  { name: 'SubmitQuery', entry: 'functions/submit.ts' },
  { name: 'PollStatus', entry: 'functions/poll-status.ts' },
  { name: 'FetchResults', entry: 'functions/fetch-results.ts' },
  { name: 'InvalidateSession', entry: 'functions/invalidate-session.ts' },
  { name: 'ReleaseSession', entry: 'functions/release-session.ts' },
] as const;

export type FunctionName = (typeof FUNCTIONS)[number]['name'];

/**
 * Functions outside the workflow: one on a schedule, one on executions that end ABORTED or
 * TIMED_OUT (a stopped execution runs no Catch, so it cancels the statement and frees the lease).
 */
export const MAINTENANCE_FUNCTIONS = [
  { name: 'CleanupSessions', entry: 'functions/cleanup-sessions.ts' },
  { name: 'CancelStoppedExecution', entry: 'functions/cancel-stopped-execution.ts' },
] as const;

/** `AcquireSession` → `AcquireSessionFunctionArn`, as written `${AcquireSessionFunctionArn}` in the ASL. */
export const placeholderOf = (name: FunctionName) => `${name}FunctionArn`;
