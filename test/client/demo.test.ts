import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * `npm run demo` as a user runs it: its own local stack on a free port, in a child process.
 */

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

function runDemo(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env };
    // The demo starts and points at its own stack; nothing of this test process may leak in.
    for (const name of Object.keys(env)) {
      if (name.startsWith('AWS_ENDPOINT_URL') || name.startsWith('SPECTRA_')) delete env[name];
    }
    const child = spawn(process.execPath, ['--import', 'tsx', 'client/demo.ts'], {
      cwd: repoRoot,
      env,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

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
    expect(demo.stdout).toMatch(/Invalidate Session +[\d:.]+ +[\d.]+ m?s +succeeded/);
    expect(demo.stdout).toContain(
      'message    The statement failed: ERROR: relation "nope" does not exist',
    );
    expect(demo.stdout).toContain('the local stack is stopped');
  });
});
