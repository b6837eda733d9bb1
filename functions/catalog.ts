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

/** `AcquireSession` → `AcquireSessionFunctionArn`, as written `${AcquireSessionFunctionArn}` in the ASL. */
export const placeholderOf = (name: FunctionName) => `${name}FunctionArn`;
