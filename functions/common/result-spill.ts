import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { createGzip, type Gzip } from 'node:zlib';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import {
  MANIFEST_FILE,
  RESULT_FORMAT,
  type ResultManifest,
  type ResultPart,
  ROWS_FILE,
  s3Uri,
  type WrittenResult,
} from './result-store.ts';
import type { ResultColumn, ResultRow } from './results.ts';

/**
 * Writes a result to the results bucket as it is read, in the `JSONL_GZIP` format of
 * functions/common/result-store.ts: rows go through a gzip member per part into one multipart
 * upload (lib-storage's Upload), so memory stays at a few fixed buffers however many rows come,
 * and the manifest is written last, so that a manifest always describes complete rows.
 */

/** Bytes of each multipart upload part; two may be in flight, and one is being filled. */
const UPLOAD_PART_BYTES = 8 * 1024 * 1024;
const UPLOAD_QUEUE_SIZE = 2;
/** Lines are handed to gzip in batches of about this many characters: fewer, larger writes. */
const BATCH_CHARACTERS = 64 * 1024;
/**
 * zlib's fastest level. FetchResults is bound by CPU, and on JSON Lines level 1 costs about a
 * third of the default level's time for output about a fifth larger.
 */
const GZIP_LEVEL = 1;

export interface ResultSpillOptions {
  s3: S3Client;
  bucket: string;
  /** `results/<state machine>/<execution>/<statement>/` (see resultKeyPrefix). */
  keyPrefix: string;
  statementId: string;
  columns: ResultColumn[];
  /** Uncompressed bytes of lines after which a part ends (the part ends with the line that passes it). */
  partBytes: number;
  /** When the result was started; the bucket's lifecycle counts from its objects' creation. */
  createdAt: Date;
  expiresAt: Date;
  /** The name a browser saves the rows under. */
  downloadName: string;
}

export class ResultSpill {
  private readonly body = new PassThrough();
  private readonly upload: Upload;
  private readonly uploaded: Promise<unknown>;
  private readonly parts: ResultPart[] = [];
  private member: Gzip | undefined;
  private batch = '';
  private partUncompressed = 0;
  private partCompressed = 0;
  private partRows = 0;
  private offset = 0;
  private rows = 0;
  private uncompressedBytes = 0;
  private uploadError: unknown;

  constructor(private readonly options: ResultSpillOptions) {
    this.upload = new Upload({
      client: options.s3,
      params: {
        Bucket: options.bucket,
        Key: this.key(ROWS_FILE),
        Body: this.body,
        ContentType: 'application/gzip',
        ContentDisposition: `attachment; filename="${options.downloadName}"`,
      },
      partSize: UPLOAD_PART_BYTES,
      queueSize: UPLOAD_QUEUE_SIZE,
      // A failed upload is aborted, so that its parts are not kept (and billed) until the
      // bucket's rule for incomplete uploads removes them.
      leavePartsOnError: false,
    });
    this.uploaded = this.upload.done();
    this.uploaded.catch((error: unknown) => {
      this.uploadError = error;
      // Ends a write that waits for room, which would otherwise wait for ever.
      this.member?.destroy(error as Error);
    });
  }

  /** Adds a row; resolves once there is room for the next one. */
  write(row: ResultRow): Promise<void> {
    const json = JSON.stringify(row);
    return this.writeJson(json, Buffer.byteLength(json, 'utf8'));
  }

  /** Adds a row already written as JSON (`bytes` of UTF-8), as {@link write} does. */
  async writeJson(json: string, bytes: number): Promise<void> {
    if (this.uploadError !== undefined) throw this.uploadError;
    const line = `${json}\n`;
    this.batch += line;
    this.partUncompressed += bytes + 1;
    this.uncompressedBytes += bytes + 1;
    this.partRows++;
    this.rows++;
    if (this.partUncompressed >= this.options.partBytes) await this.endPart();
    else if (this.batch.length >= BATCH_CHARACTERS) await this.flushBatch();
  }

  /**
   * Ends the rows object, then writes the manifest.
   *
   * @returns what the execution output says of the result.
   */
  async finish(): Promise<WrittenResult> {
    await this.endPart();
    this.body.end();
    await this.uploaded;
    const { options } = this;
    const manifest: ResultManifest = {
      format: RESULT_FORMAT,
      statementId: options.statementId,
      columns: options.columns,
      rows: this.rows,
      bytes: this.offset,
      uncompressedBytes: this.uncompressedBytes,
      data: s3Uri(options.bucket, this.key(ROWS_FILE)),
      parts: this.parts,
      createdAt: options.createdAt.toISOString(),
      expiresAt: options.expiresAt.toISOString(),
    };
    await options.s3.send(
      new PutObjectCommand({
        Bucket: options.bucket,
        Key: this.key(MANIFEST_FILE),
        Body: JSON.stringify(manifest),
        ContentType: 'application/json',
      }),
    );
    return {
      location: s3Uri(options.bucket, this.key(MANIFEST_FILE)),
      format: RESULT_FORMAT,
      parts: this.parts.length,
      rows: this.rows,
      bytes: this.offset,
      expiresAt: manifest.expiresAt,
    };
  }

  /** Stops the upload and removes what it sent; for a FetchResults that fails midway. */
  async abort(): Promise<void> {
    this.member?.destroy();
    this.body.destroy();
    await this.upload.abort().catch(() => undefined);
    await this.uploaded.catch(() => undefined);
  }

  private key(file: string): string {
    return `${this.options.keyPrefix}${file}`;
  }

  private openMember(): Gzip {
    const member = createGzip({ level: GZIP_LEVEL });
    member.on('data', (chunk: Buffer) => {
      this.partCompressed += chunk.length;
      // The upload reads the body as fast as it can send parts; until it has, gzip waits.
      if (!this.body.write(chunk)) {
        member.pause();
        this.body.once('drain', () => member.resume());
      }
    });
    return member;
  }

  private async flushBatch(): Promise<void> {
    if (this.batch === '') return;
    this.member ??= this.openMember();
    const room = this.member.write(this.batch);
    this.batch = '';
    if (!room) await once(this.member, 'drain');
  }

  /** Closes the current gzip member: the part ends at a line's end, and the next one starts. */
  private async endPart(): Promise<void> {
    await this.flushBatch();
    const member = this.member;
    if (member === undefined) return;
    this.member = undefined;
    const ended = once(member, 'end');
    member.end();
    await ended;
    this.parts.push({
      offset: this.offset,
      bytes: this.partCompressed,
      rowOffset: this.rows - this.partRows,
      rows: this.partRows,
    });
    this.offset += this.partCompressed;
    this.partCompressed = 0;
    this.partUncompressed = 0;
    this.partRows = 0;
  }
}
