import { afterAll, beforeAll } from 'vitest';
import { SpectraClient } from '../../client/index.ts';
import type { LocalStack } from '../../local/stack.ts';
import { IMMEDIATE_RETRIES, startTestStack } from '../support/local-stack.ts';
import { type ProcessRun, runNode } from '../support/spawn.ts';

/**
 * The local stack the `spectra` CLI tests run against, started in the test file's process:
 * `main()` runs in this process with its output captured, as `bin/spectra.mjs` runs it on the
 * process's own streams; `spectraProcess` runs the launcher itself in a child process, for what
 * only a real process shows (its exit code and its stdin).
 */

// Short long-polls, so that a cancelled query is mid-poll rather than inside one long Submit.
process.env.SPECTRA_SUBMIT_WAIT_SECONDS = '1';
process.env.SPECTRA_POLL_WAIT_SECONDS = '1';
process.env.SPECTRA_DYNAMODB_SESSIONS_TABLE_NAME = 'spectra-sessions';
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';

export let stack: LocalStack;
export let client: SpectraClient;

/** `node bin/spectra.mjs …args` in a child process, as a user runs it. */
export function spectraProcess(
  args: string[],
  options: { stdin?: string } = {},
): Promise<ProcessRun> {
  return runNode(['bin/spectra.mjs', ...args], {
    env: {
      ...process.env,
      AWS_ENDPOINT_URL: stack.url,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      SPECTRA_STATE_MACHINE_ARN: stack.stateMachineArn,
    },
    stdin: options.stdin,
  });
}

export const executionArnIn = (stderr: string) => /Execution (arn:\S+)/.exec(stderr)?.[1] ?? '';

/** Starts the stack before the calling file's tests and stops it after them. */
export function useCliStack(): void {
  beforeAll(async () => {
    stack = await startTestStack({ retryIntervalOverrides: IMMEDIATE_RETRIES });
    // What the CLI in this process finds in its environment: the stack (AWS_ENDPOINT_URL is set by
    // the stack itself) and its state machine.
    process.env.SPECTRA_STATE_MACHINE_ARN = stack.stateMachineArn;
    client = new SpectraClient({ endpoint: stack.url, stateMachineArn: stack.stateMachineArn });
  }, 120_000);

  afterAll(async () => {
    client?.destroy();
    await stack?.stop();
  });
}
