import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Runs a command in a child process and collects what it printed and how it ended: for the tests
 * that must see a program as its user does (the `spectra` launcher, `npm run demo`, a function's
 * cold start, the CDK app, a bundle loaded by a bare Node).
 */

/** The repository's root, where the tests run their commands unless told otherwise. */
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface ProcessRun {
  /** The exit code; null when a signal ended the process (as when the timeout killed it). */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** @default {@link REPO_ROOT} */
  cwd?: string;
  /** The child's whole environment. @default this process's */
  env?: NodeJS.ProcessEnv;
  /** Written to the child's stdin, which is then closed. @default nothing: closed at once */
  stdin?: string;
  /** Kills the child (SIGTERM) if it runs longer, so a hung child fails its test instead of the run. */
  timeoutMs?: number;
}

export function runProcess(
  command: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<ProcessRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd ?? REPO_ROOT,
      env: options.env ?? process.env,
      timeout: options.timeoutMs,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    child.stdin.end(options.stdin ?? '');
  });
}

/** Runs this Node binary with `args`, e.g. `['--import', 'tsx', 'client/demo.ts']`. */
export function runNode(args: readonly string[], options: RunOptions = {}): Promise<ProcessRun> {
  return runProcess(process.execPath, args, options);
}

/** This process's environment without the variables whose names start with one of `prefixes`. */
export function environmentWithout(...prefixes: string[]): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !prefixes.some((p) => name.startsWith(p))),
  );
}
