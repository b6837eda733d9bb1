import { createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { PassThrough, Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { BatchStatementResult, QueryResult } from '#common/execution-output';
import { parseS3Uri, type ResultManifest } from '#common/result-store';
import type { ResultRow, ResultSet } from '#common/results';
import { ResultExpiredError, ResultNotWrittenError, SpectraClientError } from './errors.ts';

/**
 * Reads a query's rows wherever they are: in the execution output, or, for a result larger than
 * the inline budget, in the results bucket (the `JSONL_GZIP` format of
 * functions/common/result-store.ts). A caller iterates a result the same way either way.
 */

/** How far a read or a download has got. */
export interface ResultProgress {
  rows: number;
  /** The rows the result holds. */
  totalRows: number;
  /** Compressed bytes read from the results bucket (0 for an inline result). */
  bytes: number;
  totalBytes: number;
}

export interface ReadOptions {
  signal?: AbortSignal;
  /** Called as rows arrive, at most every 64 KiB read. */
  onProgress?: (progress: ResultProgress) => void;
}

/** A presigned URL lives at most 7 days (SigV4's limit). */
export const PRESIGNED_URL_MAX_SECONDS = 7 * 24 * 3600;

/** How a result set's rows are read, wherever they are. */
export interface RowAccess {
  /** `for await (const row of result)`: every row, in order, inline or written alike. */
  [Symbol.asyncIterator](): AsyncIterator<ResultRow>;
  /** Every row, in order, with progress and cancellation. */
  allRows(options?: ReadOptions): AsyncIterable<ResultRow>;
  /**
   * Writes the result as gzip JSON Lines (the `JSONL_GZIP` rows object) to a file or a stream: a
   * written result's object as it is in the bucket, an inline one as it would be.
   */
  download(destination: string | Writable, options?: ReadOptions): Promise<{ bytes: number }>;
  /**
   * A presigned GET URL of the rows object, valid `expiresInSeconds` (default 3600, at most 7 days).
   *
   * @throws {ResultNotWrittenError} for an inline result, which is in the output and nowhere else.
   */
  presignedUrl(options?: { expiresInSeconds?: number }): Promise<string>;
}

/** One statement of a batch, its result set readable as the query's is. */
export interface ReadableBatchStatement extends BatchStatementResult {
  result?: ResultSet & RowAccess;
}

/**
 * A query's result, with its rows readable wherever they are; for a batch, each statement's
 * result set too (the top level is its last one that returns rows).
 */
export interface ReadableResult extends QueryResult, RowAccess {
  statements?: ReadableBatchStatement[];
}

export class ResultRows {
  constructor(
    private readonly s3: S3Client,
    private readonly clock: () => Date,
  ) {}

  /**
   * `result` with its rows made readable, and those of each statement of a batch (the methods are
   * not enumerable: the JSON is unchanged).
   */
  readable(executionArn: string, result: QueryResult): ReadableResult {
    for (const statement of result.statements ?? []) {
      if (statement.result !== undefined) this.withRowAccess(executionArn, statement.result);
    }
    return this.withRowAccess(executionArn, result) as ReadableResult;
  }

  private withRowAccess<T extends ResultSet>(executionArn: string, set: T): T & RowAccess {
    const methods: RowAccess = {
      [Symbol.asyncIterator]: () => this.rows(executionArn, set)[Symbol.asyncIterator](),
      allRows: (options) => this.rows(executionArn, set, options),
      download: (destination, options) => this.download(executionArn, set, destination, options),
      presignedUrl: (options) => this.presignedUrl(executionArn, set, options),
    };
    for (const [key, value] of [
      ...Object.entries(methods),
      [Symbol.asyncIterator, methods[Symbol.asyncIterator]] as const,
    ]) {
      Object.defineProperty(set, key, { value, enumerable: false, configurable: true });
    }
    return set as T & RowAccess;
  }

  async *rows(
    executionArn: string,
    result: ResultSet,
    options: ReadOptions = {},
  ): AsyncGenerator<ResultRow> {
    if (result.result === undefined) {
      yield* result.rows;
      options.onProgress?.({
        rows: result.rows.length,
        totalRows: result.rows.length,
        bytes: 0,
        totalBytes: 0,
      });
      return;
    }
    const manifest = await this.manifest(executionArn, result);
    const body = await this.rowsObject(executionArn, result, manifest, options.signal);
    const counted = new PassThrough();
    let bytes = 0;
    let reported = 0;
    let rows = 0;
    counted.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
    });
    const lines = createInterface({
      input: body.pipe(counted).pipe(createGunzip()),
      crlfDelay: Number.POSITIVE_INFINITY,
    });
    const report = () =>
      options.onProgress?.({ rows, totalRows: manifest.rows, bytes, totalBytes: manifest.bytes });
    try {
      for await (const line of lines) {
        if (line === '') continue;
        options.signal?.throwIfAborted();
        rows++;
        yield JSON.parse(line) as ResultRow;
        if (bytes - reported >= 64 * 1024) {
          reported = bytes;
          report();
        }
      }
      report();
    } finally {
      lines.close();
      body.destroy();
    }
  }

  /** The manifest of a written result. */
  async manifest(executionArn: string, result: ResultSet): Promise<ResultManifest> {
    const written = this.writtenOrThrow(executionArn, result);
    const body = await this.get(executionArn, written.location, written.expiresAt);
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(chunk as Buffer);
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as ResultManifest;
  }

  async download(
    executionArn: string,
    result: ResultSet,
    destination: string | Writable,
    options: ReadOptions = {},
  ): Promise<{ bytes: number }> {
    let source: Readable;
    let totalBytes = 0;
    if (result.result === undefined) {
      const lines = result.rows.map((row) => `${JSON.stringify(row)}\n`);
      source = Readable.from(lines).pipe(createGzip());
    } else {
      const manifest = await this.manifest(executionArn, result);
      totalBytes = manifest.bytes;
      source = await this.rowsObject(executionArn, result, manifest, options.signal);
    }
    let bytes = 0;
    const counter = new PassThrough();
    counter.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      options.onProgress?.({
        rows: 0,
        totalRows: result.result?.rows ?? result.rowCount,
        bytes,
        totalBytes,
      });
    });
    const target = typeof destination === 'string' ? createWriteStream(destination) : destination;
    await pipeline(source, counter, target, { signal: options.signal });
    return { bytes };
  }

  async presignedUrl(
    executionArn: string,
    result: ResultSet,
    options: { expiresInSeconds?: number } = {},
  ): Promise<string> {
    const written = this.writtenOrThrow(executionArn, result);
    const expiresIn = options.expiresInSeconds ?? 3600;
    if (!Number.isInteger(expiresIn) || expiresIn < 1 || expiresIn > PRESIGNED_URL_MAX_SECONDS) {
      throw new SpectraClientError(
        `A presigned URL's expiry must be a whole number of seconds from 1 to ${PRESIGNED_URL_MAX_SECONDS} (7 days); got ${expiresIn}`,
      );
    }
    this.checkNotExpired(executionArn, written.expiresAt);
    const manifest = await this.manifest(executionArn, result);
    const data = parseS3Uri(manifest.data);
    if (data === undefined)
      throw new SpectraClientError(`The manifest names no rows object: ${manifest.data}`);
    return getSignedUrl(this.s3, new GetObjectCommand({ Bucket: data.bucket, Key: data.key }), {
      expiresIn,
    });
  }

  private writtenOrThrow(executionArn: string, result: ResultSet) {
    if (result.result === undefined) throw new ResultNotWrittenError(executionArn, result.rowCount);
    return result.result;
  }

  private async rowsObject(
    executionArn: string,
    result: ResultSet,
    manifest: ResultManifest,
    signal: AbortSignal | undefined,
  ): Promise<Readable> {
    return this.get(
      executionArn,
      manifest.data,
      result.result?.expiresAt ?? manifest.expiresAt,
      signal,
    );
  }

  private checkNotExpired(executionArn: string, expiresAt: string): void {
    if (this.clock() >= new Date(expiresAt)) throw new ResultExpiredError(executionArn, expiresAt);
  }

  /** An object of the results bucket; a deleted one is an expired result. */
  private async get(
    executionArn: string,
    uri: string,
    expiresAt: string,
    signal?: AbortSignal,
  ): Promise<Readable> {
    this.checkNotExpired(executionArn, expiresAt);
    const location = parseS3Uri(uri);
    if (location === undefined) throw new SpectraClientError(`Not an S3 location: ${uri}`);
    try {
      const object = await this.s3.send(
        new GetObjectCommand({ Bucket: location.bucket, Key: location.key }),
        { abortSignal: signal },
      );
      return object.Body as Readable;
    } catch (error) {
      if (error instanceof Error && (error.name === 'NoSuchKey' || error.name === 'NotFound')) {
        throw new ResultExpiredError(executionArn, expiresAt, { cause: error });
      }
      throw error;
    }
  }
}
