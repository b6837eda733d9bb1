import { describe, expect, it } from 'vitest';
import { type QueryOptions, requestOf, UsageError } from '../../client/cli-input.ts';
import type { CliOutput } from '../../client/cli-output.ts';

/** What `spectra run` and `submit` send for `--batch`: the script split as Redshift reads it. */
describe('Function: requestOf', () => {
  // Only reading stdin needs the output; these options give the SQL inline.
  const output = {} as CliOutput;
  const script = "create temp table t as select ';' as s; -- a ; comment\nselect * from t;\n\n";

  it('sends a script with several statements as statements with --batch', async () => {
    const options: QueryOptions = { tenant: 'acme', sql: script, batch: true };

    expect(await requestOf(options, output)).toEqual({
      tenantId: 'acme',
      statements: ["create temp table t as select ';' as s", '-- a ; comment\nselect * from t'],
    });
  });

  it('asks for auto-commit with --auto-commit, and only with --batch', async () => {
    const batch = await requestOf(
      { tenant: 'acme', sql: script, batch: true, autoCommit: true },
      output,
    );

    expect(batch.transaction).toBe(false);
    await expect(
      requestOf({ tenant: 'acme', sql: script, autoCommit: true }, output),
    ).rejects.toThrow(UsageError);
  });

  it('sends --timeout as timeoutSeconds', async () => {
    expect(await requestOf({ tenant: 'acme', sql: 'select 1', timeout: 120 }, output)).toEqual({
      tenantId: 'acme',
      sql: 'select 1',
      timeoutSeconds: 120,
    });
  });

  it('sends the script as one sql without --batch', async () => {
    expect(await requestOf({ tenant: 'acme', sql: script }, output)).toEqual({
      tenantId: 'acme',
      sql: script,
    });
  });
});
