import { Readable } from 'node:stream';
import { main } from '../../client/cli.ts';

/** What a run of the `spectra` CLI printed, and its exit code. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * `spectra …args` in this process: `main()` as `bin/spectra.mjs` runs it, with stdout and stderr
 * captured and `stdin` to read. Neither stream is a terminal, as when the output is piped.
 */
export async function runCli(args: string[], options: { stdin?: string } = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    stdin: Readable.from([options.stdin ?? '']),
  });
  return { code, stdout, stderr };
}
