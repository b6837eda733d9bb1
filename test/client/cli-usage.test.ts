import { afterEach, describe, expect, it, vi } from 'vitest';
import { argv, runCli as spectra } from '../support/cli.ts';

/**
 * What the `spectra` CLI says before any request reaches a stack: bad usage, the help, and an
 * endpoint nobody answers at. Runs `main()` in this process; no local stack is started.
 */

describe('CLI: spectra, bad usage and errors', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it.each([
    [['submit', '--sql', 'select 1'], 2, "required option '--tenant <id>' not specified"],
    [['submit', '--tenant', 'acme', '--sql', 'select 1', '--bogus'], 2, "unknown option '--bogus'"],
    [['run', '--tenant', 'acme', '--sql', 'select :a', '--param', 'a'], 2, 'expected name=value'],
    [['submit', '--tenant', 'acme'], 2, 'the SQL is missing: give --sql'],
    [['submit', '--tenant', 'Acme', '--sql', 'select 1'], 2, 'tenantId must be 1-63 characters'],
    [
      ['--endpoint', 'not-a-url', 'sessions', '--tenant', 'acme'],
      2,
      "error: option '--endpoint <url>' argument 'not-a-url' is invalid. expected an http:// or https:// URL such as http://127.0.0.1:4599",
    ],
    [
      ['sessions', '--tenant', 'acme', '--endpoint', 'localhost:4599'],
      2,
      "error: option '--endpoint <url>' argument 'localhost:4599' is invalid. expected an http:// or https:// URL",
    ],
    [
      ['--region', '', 'sessions', '--tenant', 'acme'],
      2,
      "error: option '--region <region>' argument '' is invalid. expected an AWS region such as us-east-1",
    ],
    [
      // Port 1 is privileged and nothing in a test environment listens on it.
      ['sessions', '--tenant', 'acme', '--endpoint', 'http://127.0.0.1:1'],
      3,
      'Could not reach http://127.0.0.1:1 (ECONNREFUSED). Is the local stack running? Start it with `npm start`.',
    ],
  ])('fails %j with exit code %i and says what is wrong', async (args, exitCode, message) => {
    const run = await spectra(args);

    expect(run.code).toBe(exitCode);
    expect(run.stderr).toContain(message);
    expect(run.stdout).toBe('');
  });

  it('fails with exit code 2 and names the variable when AWS_ENDPOINT_URL is not a URL', async () => {
    // Prepare
    vi.stubEnv('AWS_ENDPOINT_URL', 'localhost:4599');

    // Act
    const run = await spectra(argv`sessions --tenant acme`);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      'error: AWS_ENDPOINT_URL: expected an http:// or https:// URL such as http://127.0.0.1:4599; got "localhost:4599"',
    );
  });

  it('reports an unreachable endpoint in JSON too, with its own exit code', async () => {
    const run = await spectra(argv`sessions --tenant acme --endpoint http://127.0.0.1:1 --json`);

    expect(run.code).toBe(3);
    expect(JSON.parse(run.stdout)).toEqual({
      error: 'SpectraConnectionError',
      message: expect.stringContaining('Could not reach http://127.0.0.1:1 (ECONNREFUSED)'),
    });
  });

  it('prints the help of every command and the exit codes, with exit code 0', async () => {
    const help = await spectra(argv`--help`);

    expect(help.code).toBe(0);
    for (const command of ['submit', 'status', 'results', 'run', 'history', 'sessions', 'cancel']) {
      expect(help.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    }
    expect(help.stdout).toMatch(/^Exit codes:$/m);
    for (const code of ['0', '1', '2', '3', '130']) {
      expect(help.stdout).toMatch(new RegExp(`^  ${code} +\\S`, 'm'));
    }
  });
});
