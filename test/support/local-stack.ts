import { StackApi } from '../../bench/chaos/stack-api.ts';
import type { LocalStack, LocalStackOptions } from '../../local/stack.ts';
import { STATES, TASK_STATES } from '../../statemachine/definition.ts';

/** Retry intervals of zero in every Task state: a retried task runs again at once. */
export const IMMEDIATE_RETRIES: Record<string, number> = Object.fromEntries(
  TASK_STATES.map((state) => [state, 0]),
);

/**
 * A local stack of the test's own on a free port, with Wait states that do not wait. The stack is
 * imported when called, so that the test has set the environment the in-process functions read
 * when they load.
 */
export async function startTestStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const { startLocalStack } = await import('../../local/stack.ts');
  return startLocalStack({
    port: 0,
    waitTimeOverrides: { [STATES.waitForQuery]: 0 },
    ...options,
  });
}

/** A stack of {@link startTestStack}, and the user's view of it over HTTP. */
export async function startStackWithApi(
  options: LocalStackOptions = {},
): Promise<{ stack: LocalStack; api: StackApi }> {
  const stack = await startTestStack(options);
  const api = new StackApi(
    stack.url,
    stack.stateMachineArn,
    process.env.SPECTRA_DYNAMODB_SESSIONS_TABLE_NAME as string,
  );
  return { stack, api };
}
