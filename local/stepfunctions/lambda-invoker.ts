import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Context } from 'aws-lambda';
import { FUNCTIONS, type FunctionName, placeholderOf } from '../../functions/catalog.ts';

/**
 * Runs Spectra's Lambda handlers in process, the way the Lambda service would run them for the
 * state machine: a Lambda-like context with a deadline, the `lambda:invoke` result shape
 * (`{Payload, StatusCode}`), and errors reported as Lambda reports them (Error = the error's
 * name, Cause = JSON with `errorType` and `errorMessage`).
 */

export const LOCAL_REGION = 'us-east-1';
export const LOCAL_ACCOUNT = '000000000000';
/** What the deployed functions get; long-polls inside them are bounded by this. */
export const LOCAL_FUNCTION_TIMEOUT_SECONDS = 60;

export type LambdaHandler = (event: unknown, context: Context) => Promise<unknown>;

export const localFunctionArn = (name: FunctionName) =>
  `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:spectra-${name}`;

const repoRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** Imports every function's handler. The environment must be set first: modules read it on load. */
export async function loadHandlers(): Promise<Record<FunctionName, LambdaHandler>> {
  const entries = await Promise.all(
    FUNCTIONS.map(async (fn) => {
      const module = (await import(resolve(repoRoot, fn.entry))) as { handler: LambdaHandler };
      return [fn.name, module.handler] as const;
    }),
  );
  return Object.fromEntries(entries) as Record<FunctionName, LambdaHandler>;
}

/**
 * The definition with every `${XFunctionArn}` replaced. An unknown placeholder is an error, as
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

/** The local ARNs of all functions, keyed by placeholder name. */
export function localSubstitutions(): Record<string, string> {
  return Object.fromEntries(
    FUNCTIONS.map((fn) => [placeholderOf(fn.name), localFunctionArn(fn.name)]),
  );
}

/** An error as the Lambda integration reports it to Step Functions. */
export class LambdaInvocationError extends Error {
  constructor(errorType: string, errorMessage: string, trace: string[] = []) {
    super(JSON.stringify({ errorType, errorMessage, trace }));
    this.name = errorType;
  }
}

function lambdaContext(name: FunctionName, timeoutSeconds: number): Context {
  const deadline = Date.now() + timeoutSeconds * 1000;
  const functionName = `spectra-${name}`;
  const fail = () => {
    throw new Error('Callback-style completion is not supported; return a promise');
  };
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: localFunctionArn(name),
    memoryLimitInMB: '256',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `local/${randomUUID()}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: fail,
    fail,
    succeed: fail,
  };
}

export interface InvokeOptions {
  timeoutSeconds?: number;
}

/** Levels at which the functions' logs leave out ERROR lines (see POWERTOOLS_LOG_LEVEL). */
const LEVELS_WITHOUT_ERRORS = new Set(['CRITICAL', 'SILENT']);

/**
 * Writes the line the Lambda Node.js runtime writes to the function's log when a handler throws:
 * the error's type, message and stack. Whatever a thrown error's message says ends up in the
 * function's log on AWS, so it does here too, at the functions' own log level.
 */
function logInvokeError(context: Context, error: Error): void {
  const level = (process.env.POWERTOOLS_LOG_LEVEL ?? 'INFO').toUpperCase();
  if (LEVELS_WITHOUT_ERRORS.has(level)) return;
  const report = {
    errorType: error.name,
    errorMessage: error.message,
    stack: (error.stack ?? '').split('\n'),
  };
  console.error(
    `${new Date().toISOString()}\t${context.awsRequestId}\tERROR\tInvoke Error \t${JSON.stringify(report)}`,
  );
}

/** Invokes one handler as `arn:aws:states:::lambda:invoke` would, returning `{Payload, StatusCode}`. */
export async function invokeLocally(
  name: FunctionName,
  handler: LambdaHandler,
  payload: unknown,
  options: InvokeOptions = {},
): Promise<{ Payload: unknown; StatusCode: number; ExecutedVersion: string }> {
  const context = lambdaContext(name, options.timeoutSeconds ?? LOCAL_FUNCTION_TIMEOUT_SECONDS);
  try {
    const result = await handler(payload, context);
    // Lambda serialises the result; undefined becomes null.
    return {
      Payload: result === undefined ? null : JSON.parse(JSON.stringify(result)),
      StatusCode: 200,
      ExecutedVersion: '$LATEST',
    };
  } catch (error) {
    if (error instanceof LambdaInvocationError) throw error;
    const e = error instanceof Error ? error : new Error(String(error));
    logInvokeError(context, e);
    throw new LambdaInvocationError(e.name, e.message, (e.stack ?? '').split('\n'));
  }
}

interface TaskStateShape {
  Type: string;
  Resource?: string;
  Parameters?: { FunctionName?: string };
}

/** Which function each Task state of a (substituted) definition invokes, by state name. */
export function functionsByTaskState(definition: {
  States: Record<string, TaskStateShape>;
}): Record<string, FunctionName> {
  const byArn = new Map(FUNCTIONS.map((fn) => [localFunctionArn(fn.name), fn.name]));
  const tasks: Record<string, FunctionName> = {};
  for (const [stateName, state] of Object.entries(definition.States)) {
    if (state.Type !== 'Task') continue;
    if (state.Resource !== 'arn:aws:states:::lambda:invoke') {
      throw new Error(
        `Task state "${stateName}" uses ${state.Resource}; the local stack runs only lambda:invoke`,
      );
    }
    const name = byArn.get(state.Parameters?.FunctionName ?? '');
    if (name === undefined)
      throw new Error(
        `Task state "${stateName}" invokes ${state.Parameters?.FunctionName}, which is not a Spectra function`,
      );
    tasks[stateName] = name;
  }
  return tasks;
}
