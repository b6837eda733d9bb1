import type { IncomingHttpHeaders } from 'node:http';
import { Transform, type TransformCallback } from 'node:stream';

/**
 * The `aws-chunked` content encoding of S3 uploads (SigV4 streaming,
 * https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html), decoded. The AWS SDK
 * for JavaScript (since 3.729) sends a streamed PutObject this way by default, with a CRC32
 * trailer (`STREAMING-UNSIGNED-PAYLOAD-TRAILER`), and so may the AWS CLI. s3rver knows none of it
 * and would store the framing with the data (17,044 bytes for 17,000 sent). No npm package
 * decodes it (the SDK only encodes), hence this decoder:
 *
 *     <size in hex>[;chunk-signature=<sig>]\r\n<size bytes>\r\n ... 0[;...]\r\n<trailers>\r\n
 *
 * Signatures are not checked, as the local stack checks no signature.
 */

/** Whether a request body is aws-chunked: its payload hash says streaming, or its encoding does. */
export function isAwsChunked(headers: IncomingHttpHeaders): boolean {
  const sha = String(headers['x-amz-content-sha256'] ?? '');
  const encoding = String(headers['content-encoding'] ?? '');
  return sha.startsWith('STREAMING-') || /(^|,)\s*aws-chunked\s*(,|$)/.test(encoding);
}

/**
 * The request's headers as they would be for the decoded body: its length, no aws-chunked
 * encoding (S3 does not keep it as the object's Content-Encoding either), no trailer.
 */
export function decodedHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const decoded: IncomingHttpHeaders = { ...headers };
  const length = headers['x-amz-decoded-content-length'];
  if (length !== undefined) decoded['content-length'] = String(length);
  else delete decoded['content-length'];
  const encodings = String(headers['content-encoding'] ?? '')
    .split(',')
    .map((value) => value.trim())
    .filter((value) => value !== '' && value !== 'aws-chunked');
  if (encodings.length > 0) decoded['content-encoding'] = encodings.join(', ');
  else delete decoded['content-encoding'];
  decoded['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
  delete decoded['x-amz-decoded-content-length'];
  delete decoded['x-amz-trailer'];
  delete decoded['transfer-encoding'];
  return decoded;
}

type State = 'size' | 'data' | 'data-end' | 'trailer' | 'done';

/** Turns an aws-chunked body into the bytes it carries; fails on a malformed or short body. */
export class AwsChunkedDecoder extends Transform {
  private state: State = 'size';
  private line = '';
  private remaining = 0;
  private decodedBytes = 0;
  /** The trailing headers (`x-amz-checksum-crc32`, ...), once the body has ended. */
  readonly trailers: Record<string, string> = {};

  constructor(private readonly expectedLength?: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    try {
      let at = 0;
      while (at < chunk.length) {
        if (this.state === 'data') {
          const take = Math.min(this.remaining, chunk.length - at);
          this.push(chunk.subarray(at, at + take));
          this.decodedBytes += take;
          this.remaining -= take;
          at += take;
          if (this.remaining === 0) this.state = 'data-end';
          continue;
        }
        if (this.state === 'done') {
          throw new Error('aws-chunked body has bytes after its final chunk');
        }
        // The other states read lines ending in CRLF.
        const byte = chunk[at++] as number;
        if (byte !== 0x0a) {
          this.line += String.fromCharCode(byte);
          continue;
        }
        const line = this.line.endsWith('\r') ? this.line.slice(0, -1) : this.line;
        this.line = '';
        this.endLine(line);
      }
      done();
    } catch (error) {
      done(error as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    if (this.state !== 'done') {
      done(new Error('aws-chunked body ended before its final chunk'));
      return;
    }
    if (this.expectedLength !== undefined && this.decodedBytes !== this.expectedLength) {
      done(
        new Error(
          `aws-chunked body carried ${this.decodedBytes} bytes; x-amz-decoded-content-length says ${this.expectedLength}`,
        ),
      );
      return;
    }
    done();
  }

  private endLine(line: string): void {
    switch (this.state) {
      case 'size': {
        const size = Number.parseInt(line.split(';')[0] ?? '', 16);
        if (!Number.isInteger(size) || size < 0)
          throw new Error(`bad aws-chunked size line "${line}"`);
        this.remaining = size;
        this.state = size === 0 ? 'trailer' : 'data';
        return;
      }
      case 'data-end':
        if (line !== '') throw new Error('aws-chunked chunk is longer than its size line says');
        this.state = 'size';
        return;
      case 'trailer': {
        if (line === '') {
          this.state = 'done';
          return;
        }
        const colon = line.indexOf(':');
        if (colon > 0)
          this.trailers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
        return;
      }
      default:
        throw new Error(`unexpected line in aws-chunked body (${this.state})`);
    }
  }
}
