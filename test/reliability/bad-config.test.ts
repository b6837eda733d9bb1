import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FUNCTIONS, MAINTENANCE_FUNCTIONS } from '../../functions/catalog.ts';
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

/** Imports `entry` in a child Node process with `env` as the SPECTRA_* configuration. */
async function importWith(entry: string, env: Record<string, string>): Promise<Started> {
  const moduleUrl = pathToFileURL(resolve(REPO_ROOT, entry)).href;
  const { code, stderr } = await runNode(
    ['--import', 'tsx', '--input-type=module', '-e', `await import(${JSON.stringify(moduleUrl)})`],
    { env: { ...environmentWithout('SPECTRA_'), ...env }, timeoutMs: 60_000 },
  );
  return { exitCode: code ?? -1, stderr };
}

const cluster = { SPECTRA_REDSHIFT_CLUSTER_IDENTIFIER: 'analytics' };
const entryOf = (name: string) =>
  [...FUNCTIONS, ...MAINTENANCE_FUNCTIONS].find((fn) => fn.name === name)?.entry as string;

describe('Reliability: bad configuration stops a function at start-up', () => {
  it('starts every function with a valid configuration', async () => {
    // Act
    const started = await Promise.all(
      [...FUNCTIONS, ...MAINTENANCE_FUNCTIONS].map((fn) => importWith(fn.entry, cluster)),
    );

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
});
