import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DB_USER_TEMPLATE_RULE } from '../../functions/common/config.ts';
import { FUNCTIONS } from '../../functions/registry.ts';
import { environmentWithout, REPO_ROOT, runNode } from '../support/spawn.ts';

/**
 * A function refuses to start on a bad configuration value: importing its module, as the Lambda
 * runtime does at a cold start, fails with a message that names the variable and what it allows.
 * Each import runs in a child process, so that the module's once-per-container configuration is
 * read fresh from the environment given.
 */

interface Started {
  exitCode: number;
  stderr: string;
}

/** Runs Node (with tsx) on `args` in a child process with `env` as the SPECTRA_* configuration. */
async function runWith(args: string[], env: Record<string, string>): Promise<Started> {
  const { code, stderr } = await runNode(['--import', 'tsx', ...args], {
    env: { ...environmentWithout('SPECTRA_'), ...env },
    timeoutMs: 60_000,
  });
  return { exitCode: code ?? -1, stderr };
}

/** Imports `entry` in a child Node process with `env` as the SPECTRA_* configuration. */
function importWith(entry: string, env: Record<string, string>): Promise<Started> {
  const moduleUrl = pathToFileURL(resolve(REPO_ROOT, entry)).href;
  return runWith(['--input-type=module', '-e', `await import(${JSON.stringify(moduleUrl)})`], env);
}

const cluster = { SPECTRA_REDSHIFT_CLUSTER_IDENTIFIER: 'analytics' };
const entryOf = (name: string) => FUNCTIONS.find((fn) => fn.name === name)?.entry as string;

describe('Reliability: bad configuration stops a function at start-up', () => {
  it('starts every function with a valid configuration', async () => {
    // Act
    const started = await Promise.all(FUNCTIONS.map((fn) => importWith(fn.entry, cluster)));

    // Assess
    expect(started.map((s) => s.exitCode)).toEqual(started.map(() => 0));
  });

  it.each([
    [
      'AcquireSession',
      { SPECTRA_MAX_SESSIONS_PER_TENANT: '0' },
      'SPECTRA_MAX_SESSIONS_PER_TENANT must be from 1 to 500; got 0',
    ],
    [
      'SubmitQuery',
      { SPECTRA_SUBMIT_WAIT_SECONDS: '31' },
      'SPECTRA_SUBMIT_WAIT_SECONDS must be from 0 to 30; got 31',
    ],
    [
      'PollStatus',
      { SPECTRA_POLL_WAIT_SECONDS: 'soon' },
      'SPECTRA_POLL_WAIT_SECONDS must be a whole number from 0 to 30; got "soon"',
    ],
    [
      'FetchResults',
      { SPECTRA_RESULT_INLINE_MAX_BYTES: '999999' },
      'SPECTRA_RESULT_INLINE_MAX_BYTES must be from 1024 to 250000; got 999999',
    ],
    [
      'InvalidateSession',
      { SPECTRA_REDSHIFT_SESSION_KEEP_ALIVE_SECONDS: '90000' },
      'SPECTRA_REDSHIFT_SESSION_KEEP_ALIVE_SECONDS must be from 1 to 86400; got 90000',
    ],
    [
      'ReleaseSession',
      { SPECTRA_DB_USER_TEMPLATE: 'tenant' },
      'SPECTRA_DB_USER_TEMPLATE must contain "{tenant}"',
    ],
    [
      'AcquireSession',
      { SPECTRA_DB_USER_TEMPLATE: '{tenant}' },
      'SPECTRA_DB_USER_TEMPLATE must contain "{tenant}" once',
    ],
    [
      'SubmitQuery',
      { SPECTRA_DENIED_DB_USERS: 'ops admin' },
      'SPECTRA_DENIED_DB_USERS must be a comma-separated list of database user names',
    ],
    [
      'CleanupSessions',
      { SPECTRA_DYNAMODB_SESSIONS_TABLE_NAME: 'no spaces' },
      'SPECTRA_DYNAMODB_SESSIONS_TABLE_NAME must be 3-255 characters',
    ],
    [
      'CancelStoppedExecution',
      { SPECTRA_REDSHIFT_WORKGROUP_NAME: 'default-wg' },
      'Set only one of SPECTRA_REDSHIFT_CLUSTER_IDENTIFIER and SPECTRA_REDSHIFT_WORKGROUP_NAME',
    ],
  ])('fails to start %s with %o, naming the variable', async (name, bad, message) => {
    // Act
    const started = await importWith(entryOf(name), { ...cluster, ...bad });

    // Assess
    expect(started.exitCode).not.toBe(0);
    expect(started.stderr).toContain(`ConfigurationError: ${message}`);
  });

  it('fails to start a function with neither a cluster nor a workgroup, naming both variables', async () => {
    // Act
    const started = await importWith(entryOf('SubmitQuery'), {});

    // Assess
    expect(started.exitCode).not.toBe(0);
    expect(started.stderr).toContain(
      'ConfigurationError: Set one of SPECTRA_REDSHIFT_CLUSTER_IDENTIFIER (provisioned) or SPECTRA_REDSHIFT_WORKGROUP_NAME (Serverless); neither is set',
    );
  });

  it('stops the local stack at start-up on a user template without a fixed part, naming the rule', async () => {
    // Act: `npm start`, on a free port
    const started = await runWith(['local/main.ts'], {
      ...cluster,
      SPECTRA_LOCAL_PORT: '0',
      SPECTRA_DB_USER_TEMPLATE: '{tenant}',
    });

    // Assess
    expect(started.exitCode).toBe(1);
    expect(started.stderr).toContain(
      `The local stack did not start: SPECTRA_DB_USER_TEMPLATE must ${DB_USER_TEMPLATE_RULE}; got "{tenant}" (no fixed part`,
    );
  });
});
