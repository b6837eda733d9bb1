import { Readable } from 'node:stream';
import { expect } from 'vitest';
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

/**
 * A command line as a user types it, as the arguments `main()` gets: the literal text splits at
 * white space, and each `${value}` stays one argument however many spaces it holds, as a shell
 * keeps a quoted word whole. `argv\`run --tenant acme --sql ${sql}\`` is
 * `['run', '--tenant', 'acme', '--sql', sql]`; `--param label=${label}` is one argument.
 */
export function argv(text: TemplateStringsArray, ...values: string[]): string[] {
  const words: string[] = [];
  let word: string | undefined;
  text.forEach((literal, index) => {
    for (const piece of literal.split(/(\s+)/)) {
      if (/^\s+$/.test(piece)) {
        if (word !== undefined) words.push(word);
        word = undefined;
      } else if (piece !== '') word = (word ?? '') + piece;
    }
    if (index < values.length) word = (word ?? '') + values[index];
  });
  if (word !== undefined) words.push(word);
  return words;
}

/** Splits an aligned table (columns two or more spaces apart) into its header and rows. */
export function parseTable(text: string): { header: string[]; rows: string[][] } {
  const lines = text.trimEnd().split('\n');
  const cells = (line: string) => line.trim().split(/\s{2,}/);
  expect(lines[1]).toMatch(/^-+( +-+)*$/);
  return {
    header: cells(lines[0] ?? ''),
    rows: lines
      .slice(2)
      .filter((line) => !line.startsWith('('))
      .map(cells),
  };
}

/** A strict RFC 4180 reader: quoted fields with doubled quotes, CRLF records. */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"') quoted = true;
    else if (char === ',') {
      record.push(field);
      field = '';
    } else if (char === '\r' && text[i + 1] === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      i++;
    } else field += char;
  }
  expect(field).toBe('');
  return records;
}
