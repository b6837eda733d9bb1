import { describe, expect, it } from 'vitest';
import { argv, parseCsv, runCli as spectra } from '../support/cli.ts';
import { spectraProcess, useCliStack } from './cli-stack.ts';

/**
 * How a run of the `spectra` CLI ends: the errors the stack reports and their exit codes, and the
 * launcher, bin/spectra.mjs, in a process of its own.
 */

useCliStack();

describe('CLI: spectra', () => {
  describe('errors the stack reports', () => {
    it.each([
      [
        ['status', 'arn:aws:states:us-east-1:000000000000:execution:spectra-query:nope'],
        1,
        'QueryNotFoundError: No query with the execution ARN arn:aws:states:us-east-1:000000000000:execution:spectra-query:nope',
      ],
      [['history', 'not-an-arn'], 1, 'QueryNotFoundError'],
    ])('fails %j with exit code %i and says what is wrong', async (args, exitCode, message) => {
      const run = await spectra(args);

      expect(run.code).toBe(exitCode);
      expect(run.stderr).toContain(message);
      expect(run.stdout).toBe('');
    });
  });

  describe('the launcher, bin/spectra.mjs, in a process of its own', () => {
    it('reads the SQL from stdin with --sql-file - and prints CSV', async () => {
      const run = await spectraProcess(argv`run --tenant initech --sql-file - --csv`, {
        stdin: "select 'x,y' as pair, 7 as seven\n",
      });

      expect(run.code).toBe(0);
      expect(parseCsv(run.stdout)).toEqual([
        ['pair', 'seven'],
        ['x,y', '7'],
      ]);
    });

    it('fails a bad query with exit code 1 and the error name and message on stderr', async () => {
      const run = await spectraProcess(argv`run --tenant globex --sql ${'select * from nope'}`);

      expect(run.code).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain(
        'QueryFailedError: The statement failed: ERROR: relation "nope" does not exist',
      );
    });
  });
});
