import { formatDuration } from './format.ts';
import type { QueryProgress } from './types.ts';

/**
 * Where a run of the CLI reads and writes: the process's own streams when `spectra` runs, others
 * when a test or a program runs `main()` in its own process.
 */
export interface CliStreams {
  stdout: OutputStream;
  stderr: OutputStream;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
}

export interface OutputStream {
  write(text: string): unknown;
  /** True on a terminal: only there are progress lines drawn. */
  isTTY?: boolean;
  /** The terminal's width, for commander's help. */
  columns?: number;
}

export function processStreams(): CliStreams {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin };
}

const withNewline = (text: string) => (text.endsWith('\n') ? text : `${text}\n`);

/** What one run of the CLI prints, and the exit code it has settled on so far. */
export class CliOutput {
  /** Set when the run must not end 0 even though no error was thrown (a query that failed). */
  exitCode: number | undefined;

  constructor(readonly streams: CliStreams) {}

  /** A line (or lines) on stdout. */
  line(text: string): void {
    this.streams.stdout.write(withNewline(text));
  }

  /** Text on stdout exactly as given, for formats with their own line ends (CSV). */
  raw(text: string): void {
    this.streams.stdout.write(text);
  }

  json(value: unknown): void {
    this.line(JSON.stringify(value, null, 2));
  }

  /** A line (or lines) on stderr: errors, and what is not the command's output. */
  note(text: string): void {
    this.streams.stderr.write(withNewline(text));
  }
}

/**
 * A one-line progress display on stderr, redrawn in place: only on a terminal, since anywhere
 * else the carriage returns and erase codes would be noise in a log.
 */
export class ProgressLine {
  private static readonly FRAMES = ['-', '\\', '|', '/'];
  private timer: NodeJS.Timeout | undefined;
  private frame = 0;
  private latest: QueryProgress | undefined;
  private latestAt = Date.now();
  readonly enabled: boolean;

  constructor(private readonly stderr: OutputStream) {
    this.enabled = stderr.isTTY === true;
  }

  start(): void {
    if (!this.enabled) return;
    this.timer = setInterval(() => this.draw(), 100);
    this.timer.unref();
  }

  update(progress: QueryProgress): void {
    this.latest = progress;
    this.latestAt = Date.now();
    this.draw();
  }

  private draw(): void {
    if (!this.enabled) return;
    const frame = ProgressLine.FRAMES[this.frame++ % ProgressLine.FRAMES.length];
    const state = this.latest?.state ?? 'Starting';
    // Between polls the clock keeps moving on this side.
    const elapsed = (this.latest?.elapsedMs ?? 0) + (Date.now() - this.latestAt);
    this.stderr.write(`\r\x1b[2K${frame} ${state}  ${formatDuration(elapsed)}`);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.enabled) this.stderr.write('\r\x1b[2K');
  }
}
