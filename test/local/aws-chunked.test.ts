import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { AwsChunkedDecoder, decodedHeaders, isAwsChunked } from '../../local/s3/aws-chunked.ts';

async function decode(body: string | Buffer, expected?: number) {
  const decoder = new AwsChunkedDecoder(expected);
  const chunks: Buffer[] = [];
  // One byte at a time: a size line or a CRLF split across reads is the hard case.
  const bytes = Buffer.from(body);
  const pieces = Array.from(bytes, (_, i) => bytes.subarray(i, i + 1));
  for await (const chunk of Readable.from(pieces).pipe(decoder)) chunks.push(chunk as Buffer);
  return { data: Buffer.concat(chunks).toString(), trailers: decoder.trailers };
}

describe('Class: AwsChunkedDecoder', () => {
  it('decodes unsigned chunks with a checksum trailer, whatever the reads', async () => {
    const body = '5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n';
    await expect(decode(body, 11)).resolves.toEqual({
      data: 'hello world',
      trailers: { 'x-amz-checksum-crc32': 'DUoRhQ==' },
    });
  });

  it('decodes signed chunks (chunk-signature extensions)', async () => {
    const signature = 'a'.repeat(64);
    const body = `3;chunk-signature=${signature}\r\nabc\r\n0;chunk-signature=${signature}\r\n\r\n`;
    await expect(decode(body, 3)).resolves.toMatchObject({ data: 'abc' });
  });

  it.each([
    ['a body cut before its last chunk', '5\r\nhello\r\n', /ended before its final chunk/],
    ['a chunk longer than its size line', '2\r\nhello\r\n0\r\n\r\n', /longer than its size/],
    ['a size that is not hex', 'zz\r\nhello\r\n', /bad aws-chunked size line/],
    ['bytes after the end', '0\r\n\r\nmore', /bytes after its final chunk/],
  ])('refuses %s', async (_name, body, message) => {
    await expect(decode(body)).rejects.toThrow(message);
  });

  it('refuses a body whose length is not the decoded length the request declared', async () => {
    await expect(decode('5\r\nhello\r\n0\r\n\r\n', 6)).rejects.toThrow(/carried 5 bytes/);
  });
});

describe('Function: decodedHeaders', () => {
  it('gives the decoded length, drops aws-chunked and the trailer, keeps other encodings', () => {
    const headers = {
      'content-encoding': 'gzip, aws-chunked',
      'content-length': '120',
      'x-amz-decoded-content-length': '100',
      'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
      'x-amz-trailer': 'x-amz-checksum-crc32',
      'content-type': 'application/gzip',
    };
    expect(isAwsChunked(headers)).toBe(true);
    expect(decodedHeaders(headers)).toEqual({
      'content-encoding': 'gzip',
      'content-length': '100',
      'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
      'content-type': 'application/gzip',
    });
    expect(isAwsChunked({ 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' })).toBe(false);
  });
});
