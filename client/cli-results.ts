import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import type { ResultRow } from '#common/results';
import type { CliOutput, OutputStream } from './cli-output.ts';
import {
  alignmentsOf,
  cellText,
  csvRecord,
  formatBytes,
  noResultSetText,
  resultFooter,
  tableLayout,
} from './format.ts';
import type { ReadableResult, ResultProgress } from './result-rows.ts';

/**
 * How `spectra results` and `spectra run` print a result: every row, streamed, whether the result
 * is in the execution output or in the results bucket, as a table, CSV, JSON or JSON Lines, to
 * stdout or a file.
 */

export type RowFormat = 'table' | 'csv' | 'json' | 'jsonl';

/** Rows a table is laid out by: later rows are aligned to the columns these set. */
const TABLE_SAMPLE_ROWS = 1000;
/** Text is handed to the output in pieces of about this size. */
const FLUSH_CHARACTERS = 64 * 1024;

/** Where the text goes, waiting for room when the stream says it has none. */
interface Sink {
  write(text: string): Promise<void>;
  end(): Promise<void>;
}

function streamSink(stream: OutputStream | Writable, close: boolean): Sink {
  let buffered = '';
  const flush = async () => {
    if (buffered === '') return;
    const text = buffered;
    buffered = '';
    const room = stream.write(text);
    if (room === false && 'once' in stream) await once(stream as Writable, 'drain');
  };
  return {
    async write(text) {
      buffered += text;
      if (buffered.length >= FLUSH_CHARACTERS) await flush();
    },
    async end() {
      await flush();
      if (close) {
        const writable = stream as Writable;
        writable.end();
        await once(writable, 'finish');
      }
    },
  };
}

/**
 * The pager a table goes through on a terminal (`PAGER`, else `less -FRSX`, which exits at once
 * when the table fits the screen), or undefined when there is none to start.
 */
async function startPager(): Promise<{ sink: Sink; done: Promise<unknown> } | undefined> {
  const configured = process.env.PAGER;
  if (configured === '') return undefined;
  const [command, ...args] = configured ? configured.split(/\s+/) : ['less', '-FRSX'];
  const child = spawn(command as string, args, { stdio: ['pipe', 'inherit', 'inherit'] });
  const started = await new Promise<boolean>((resolve) => {
    child.once('spawn', () => resolve(true));
    child.once('error', () => resolve(false));
  });
  if (!started) return undefined;
  // Quitting the pager early closes its input: the rest of the table has nowhere to go.
  child.stdin.on('error', () => undefined);
  return { sink: streamSink(child.stdin, true), done: once(child, 'exit') };
}

/** Where the output goes: `--output FILE`, the pager (a table on a terminal), or stdout. */
export async function openSink(
  output: CliOutput,
  format: RowFormat,
  file: string | undefined,
): Promise<{ sink: Sink; done?: Promise<unknown> }> {
  if (file !== undefined) return { sink: streamSink(createWriteStream(file), true) };
  const { stdout } = output.streams;
  if (format === 'table' && stdout.isTTY && stdout === process.stdout) {
    const pager = await startPager();
    if (pager !== undefined) return pager;
  }
  return { sink: streamSink(stdout, false) };
}

/**
 * Prints every row of `result` in `format` to `sink`.
 *
 * @returns the number of rows printed.
 */
export async function writeResult(
  result: ReadableResult,
  format: RowFormat,
  sink: Sink,
  onProgress?: (progress: ResultProgress) => void,
): Promise<number> {
  const rows = result.allRows({ onProgress });
  let count = 0;
  switch (format) {
    case 'csv':
      await sink.write(csvRecord(result.columns.map((c) => c.name)));
      for await (const row of rows) {
        await sink.write(csvRecord(row));
        count++;
      }
      break;
    case 'jsonl':
      for await (const row of rows) {
        await sink.write(`${JSON.stringify(row)}\n`);
        count++;
      }
      break;
    case 'json':
      count = await writeJsonDocument(result, rows, sink);
      break;
    case 'table':
      count = await writeTable(result, rows, sink);
      break;
  }
  await sink.end();
  return count;
}

/**
 * The result as one JSON document, laid out as `JSON.stringify(result, null, 2)` lays out an
 * inline one, with every row in `rows` and `rowCount` counting them: streamed, so that a result
 * of any size prints in the memory of a few rows.
 */
async function writeJsonDocument(
  result: ReadableResult,
  rows: AsyncIterable<ResultRow>,
  sink: Sink,
): Promise<number> {
  const MARK = '\u0000rows\u0000';
  const layoutWith = (rowCount: number) => {
    const text = JSON.stringify({ ...result, rows: MARK, rowCount }, null, 2);
    const at = text.indexOf(JSON.stringify(MARK));
    return { before: text.slice(0, at), after: text.slice(at + JSON.stringify(MARK).length) };
  };
  await sink.write(layoutWith(0).before);
  let count = 0;
  for await (const row of rows) {
    const lines = JSON.stringify(row, null, 2).replaceAll('\n', '\n    ');
    await sink.write(`${count === 0 ? '[\n' : ',\n'}    ${lines}`);
    count++;
  }
  await sink.write(count === 0 ? '[]' : '\n  ]');
  await sink.write(`${layoutWith(count).after}\n`);
  return count;
}

async function writeTable(
  result: ReadableResult,
  rows: AsyncIterable<ResultRow>,
  sink: Sink,
): Promise<number> {
  if (result.columns.length === 0) {
    await sink.write(`${noResultSetText(result)}\n`);
    return 0;
  }
  const headers = result.columns.map((c) => c.name);
  const sample: string[][] = [];
  let layout: ReturnType<typeof tableLayout> | undefined;
  let count = 0;
  const emit = async (cells: string[]) => {
    if (layout === undefined) {
      sample.push(cells);
      if (sample.length < TABLE_SAMPLE_ROWS) return;
      await startTable();
      return;
    }
    await sink.write(`${layout.line(cells)}\n`);
  };
  const startTable = async () => {
    layout = tableLayout(headers, sample, alignmentsOf(result));
    await sink.write(`${layout.head.join('\n')}\n`);
    for (const cells of sample) await sink.write(`${layout.line(cells)}\n`);
  };
  for await (const row of rows) {
    await emit(row.map(cellText));
    count++;
  }
  if (layout === undefined) await startTable();
  await sink.write(`${resultFooter(result, count)}\n`);
  return count;
}

/** A progress line on stderr while a written result is read (on a terminal only). */
export function progressReporter(output: CliOutput): (progress: ResultProgress) => void {
  const { stderr } = output.streams;
  if (stderr.isTTY !== true) return () => undefined;
  let last = 0;
  return (progress) => {
    const now = Date.now();
    const done = progress.rows === progress.totalRows;
    if (!done && now - last < 100) return;
    last = now;
    const rows = `${progress.rows.toLocaleString('en-US')} of ${progress.totalRows.toLocaleString('en-US')} rows`;
    const bytes = `${formatBytes(progress.bytes)} of ${formatBytes(progress.totalBytes)}`;
    stderr.write(done ? '\r\x1b[2K' : `\r\x1b[2KReading ${rows} (${bytes})`);
  };
}
