import { StackApi } from '../../bench/chaos/stack-api.ts';
import type { LocalStack, LocalStackOptions } from '../../local/stack.ts';
import { STATES } from '../../statemachine/definition.ts';

/**
 * A local stack of the test's own on a free port, with Wait states that do not wait, and the
 * user's view of it over HTTP. The stack is imported when called, so that the test has set the
 * environment the in-process functions read when they load.
 */
export async function startStackWithApi(
  options: LocalStackOptions = {},
): Promise<{ stack: LocalStack; api: StackApi }> {
  const { startLocalStack } = await import('../../local/stack.ts');
  const stack = await startLocalStack({
    port: 0,
    waitTimeOverrides: { [STATES.waitForQuery]: 0 },
    ...options,
  });
  const api = new StackApi(
    stack.url,
    stack.stateMachineArn,
    process.env.SPECTRA_DYNAMODB_SESSIONS_TABLE_NAME as string,
  );
  return { stack, api };
}
