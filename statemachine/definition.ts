import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { WORKFLOW_FUNCTIONS, type WorkflowFunctionName } from '../functions/registry.ts';

/**
 * The query workflow's definition, as the CDK app deploys it and the local stack runs it: where
 * the file is, how its `${<Name>FunctionArn}` placeholders are filled, and the names of its
 * states, for the code and tests that refer to a state by name.
 */

/** statemachine/query.asl.json: JSONPath, one Task per workflow function. */
export const QUERY_DEFINITION_FILE = fileURLToPath(new URL('./query.asl.json', import.meta.url));

/** The definition's states by role; test/statemachine/definition.test.ts checks them against the file. */
export const STATES = {
  acquire: 'Acquire Session',
  submit: 'Submit Query',
  invalidate: 'Invalidate Session',
  queryFinished: 'Query Finished?',
  waitForQuery: 'Wait For Query',
  poll: 'Poll Status',
  release: 'Release Session',
  fetch: 'Fetch Results',
  succeeded: 'Query Succeeded',
  releaseAfterFailure: 'Release Session After Failure',
  failed: 'Query Failed',
} as const;

export type StateName = (typeof STATES)[keyof typeof STATES];

/** The states a query passes when its statement ends within Submit Query's wait, in order. */
export const SHORT_QUERY_PATH: readonly StateName[] = [
  STATES.acquire,
  STATES.submit,
  STATES.queryFinished,
  STATES.release,
  STATES.fetch,
  STATES.succeeded,
];

/**
 * What the Lambda service reports when it fails an invocation (not errors Spectra throws). Every
 * Task retries them; when they outlast the retries, the failure path reports them as
 * `TransientServiceError`.
 */
export const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'Lambda.ClientExecutionTimeoutException',
] as const;

/**
 * What the Lambda runtime reports for an invocation it ended itself: out of time (which the
 * functions' own guard, Middy's early timeout, comes before), out of memory or crashed
 * (`Runtime.` and the reason). Nothing retries or catches them: the execution ends at the step,
 * for a redrive.
 */
export const LAMBDA_RUNTIME_ERRORS = ['Sandbox.Timedout', 'Runtime.*'] as const;

/** The Task states, whose Retry and Catch a test or the local stack may shorten. */
export const TASK_STATES: readonly StateName[] = [
  STATES.acquire,
  STATES.submit,
  STATES.poll,
  STATES.invalidate,
  STATES.fetch,
  STATES.release,
  STATES.releaseAfterFailure,
];

/** `AcquireSession` → `AcquireSessionFunctionArn`, as written `${AcquireSessionFunctionArn}` in the ASL. */
export const placeholderOf = (name: WorkflowFunctionName) => `${name}FunctionArn`;

/**
 * `text` with every `${Key}` replaced by `values[Key]`. An unknown placeholder is an error, as
 * CloudFormation would make it.
 */
export function substituteDefinition(text: string, values: Record<string, string>): string {
  return text.replace(/\$\{([A-Za-z0-9]+)\}/g, (_, key: string) => {
    const value = values[key];
    if (value === undefined)
      throw new Error(`The definition uses \${${key}}, which nothing substitutes`);
    return value;
  });
}

/** The definition's text with each workflow function's placeholder replaced by its ARN. */
export function loadDefinition(functionArnOf: (name: WorkflowFunctionName) => string): string {
  const values = Object.fromEntries(
    WORKFLOW_FUNCTIONS.map((fn) => [placeholderOf(fn.name), functionArnOf(fn.name)]),
  );
  return substituteDefinition(readFileSync(QUERY_DEFINITION_FILE, 'utf8'), values);
}
