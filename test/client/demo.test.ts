import { describe, expect, it } from 'vitest';
import { STATES } from '../../statemachine/definition.ts';
import { environmentWithout, runNode } from '../support/spawn.ts';

/**
 * `npm run demo` as a user runs it: its own local stack on a free port, in a child process.
 */

// The demo starts and points at its own stack; nothing of this test process may leak in.
const runDemo = () =>
  runNode(['--import', 'tsx', 'client/demo.ts'], {
    env: environmentWithout('AWS_ENDPOINT_URL', 'SPECTRA_'),
  });

describe('Demo: npm run demo', () => {
  it('tells the whole story and exits 0', { timeout: 120_000 }, async () => {
    // Act
    const demo = await runDemo();

    // Assess
    expect(demo.stderr).toBe('');
    expect(demo.code).toBe(0);
    for (const heading of [
      '1. Two tenants, first query each (miss) then again (hit)',
      '2. One tenant, two queries at once',
      "3. A session expires behind Spectra's back",
      '4. A bad query fails with a clear error',
      '5. Row-level security keeps tenants apart',
      '6. Session hit rate so far',
    ]) {
      expect(demo.stdout).toContain(`\n${heading}\n`);
    }
    expect(demo.stdout).toMatch(
      new RegExp(`${STATES.invalidate} +[\\d:.]+ +[\\d.]+ m?s +succeeded`),
    );
    expect(demo.stdout).toContain(
      'message    The statement failed: ERROR: relation "nope" does not exist',
    );
    expect(demo.stdout).toContain('the local stack is stopped');
  });
});
