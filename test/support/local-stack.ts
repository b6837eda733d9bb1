import { afterAll, afterEach, beforeAll } from 'vitest';
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

/**
 * Starts a stack of the file's own before its tests (see {@link startStackWithApi}), resets its
 * test controls after each test and stops it after the last. The returned getters are valid
 * inside the tests.
 */
export function useStackWithApi(options: LocalStackOptions = {}) {
  let started: { stack: LocalStack; api: StackApi } | undefined;
  beforeAll(async () => {
    started = await startStackWithApi(options);
  }, 120_000);
  afterEach(async () => {
    await started?.api.control('reset');
  });
  afterAll(async () => {
    started?.api.destroy();
    await started?.stack.stop();
  });
  const get = () => {
    if (!started) throw new Error('The local stack is not started: use it inside a test');
    return started;
  };
  return { api: () => get().api, stack: () => get().stack };
}
