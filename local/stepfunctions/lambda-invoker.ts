import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import type { LambdaHandler } from '../../functions/common/handler.ts';
import {
  type FunctionName,
  functionSpec,
  WORKFLOW_FUNCTIONS,
  type WorkflowFunctionName,
} from '../../functions/registry.ts';
import { localFunctionArn } from '../identity.ts';

/**
 * Runs Spectra's Lambda handlers in process, the way the Lambda service would run them for the
 * state machine: a Lambda-like context with the function's deadline, the `lambda:invoke` result
 * shape (`{Payload, StatusCode}`), and errors reported as Lambda reports them (Error = the error's
 * name, Cause = JSON with `errorType` and `errorMessage`). An invocation that outlasts the
 * function's timeout (functions/registry.ts) fails with `Sandbox.Timedout`, as on AWS; the handler
 * itself cannot be stopped in process, so it runs on, as a stopped execution's does.
 */

/** An error as the Lambda integration reports it to Step Functions. */
export class LambdaInvocationError extends Error {
  constructor(errorType: string, errorMessage: string, trace: string[] = []) {
    super(JSON.stringify({ errorType, errorMessage, trace }));
    this.name = errorType;
  }
}

/** The context Lambda hands an invocation of `name` that must end by `deadline` (epoch ms). */
export function lambdaContext(name: FunctionName, requestId: string, deadline: number): Context {
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
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `local/${randomUUID()}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: fail,
    fail,
    succeed: fail,
  };
}

/** How Lambda reports an invocation that ran out of time. */
function timedOut(requestId: string, timeoutSeconds: number): LambdaInvocationError {
  return new LambdaInvocationError(
    'Sandbox.Timedout',
    `RequestId: ${requestId} Error: Task timed out after ${timeoutSeconds.toFixed(2)} seconds`,
  );
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
): Promise<{ Payload: unknown; StatusCode: number; ExecutedVersion: string }> {
  const { timeoutSeconds } = functionSpec(name);
  const requestId = randomUUID();
  const deadline = Date.now() + timeoutSeconds * 1000;
  const context = lambdaContext(name, requestId, deadline);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timedOut(requestId, timeoutSeconds)), timeoutSeconds * 1000);
  });
  try {
    const result = await Promise.race([handler(payload, context), timeout]);
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
  } finally {
    clearTimeout(timer);
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
}): Record<string, WorkflowFunctionName> {
  const byArn = new Map(WORKFLOW_FUNCTIONS.map((fn) => [localFunctionArn(fn.name), fn.name]));
  const tasks: Record<string, WorkflowFunctionName> = {};
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
