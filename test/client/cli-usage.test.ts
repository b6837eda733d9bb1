import { describe, expect, it } from 'vitest';
import { runCli as spectra } from '../support/cli.ts';

/**
 * What the `spectra` CLI says before any request reaches a stack: bad usage, the help, and an
 * endpoint nobody answers at. Runs `main()` in this process; no local stack is started.
 */

describe('CLI: spectra, bad usage and errors', () => {
  it.each([
    [['submit', '--sql', 'select 1'], 2, "required option '--tenant <id>' not specified"],
    [['submit', '--tenant', 'acme', '--sql', 'select 1', '--bogus'], 2, "unknown option '--bogus'"],
    [['run', '--tenant', 'acme', '--sql', 'select :a', '--param', 'a'], 2, 'expected name=value'],
    [['submit', '--tenant', 'acme'], 2, 'the SQL is missing: give --sql'],
    [['submit', '--tenant', 'Acme', '--sql', 'select 1'], 2, 'tenantId must be 1-63 characters'],
    [
      // Port 1 is privileged and nothing in a test environment listens on it.
      ['sessions', '--tenant', 'acme', '--endpoint', 'http://127.0.0.1:1'],
      1,
      'Could not reach http://127.0.0.1:1 (ECONNREFUSED). Is the local stack running? Start it with `npm start`.',
    ],
  ])('fails %j with exit code %i and says what is wrong', async (args, exitCode, message) => {
    const run = await spectra(args);

    expect(run.code).toBe(exitCode);
    expect(run.stderr).toContain(message);
    expect(run.stdout).toBe('');
  });

  it('prints the help of every command with exit code 0', async () => {
    const help = await spectra(['--help']);

    expect(help.code).toBe(0);
    for (const command of ['submit', 'status', 'results', 'run', 'history', 'sessions', 'cancel']) {
      expect(help.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    }
  });
});
