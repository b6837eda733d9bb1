import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResultSpill } from '../../functions/common/result-spill.ts';
import type { ResultManifest } from '../../functions/common/result-store.ts';
import {
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  LOCAL_RESULTS_BUCKET_NAME,
} from '../../local/identity.ts';
import type { LocalStack } from '../../local/stack.ts';

/**
 * S3 on the local endpoint, through the real S3 client with its default settings (CRC32
 * checksums, aws-chunked streamed uploads) and through the AWS CLI: every upload path Spectra uses
 * stores exactly the bytes sent, and what is read back, by GetObject or a presigned URL, is them.
 */

const execFileAsync = promisify(execFile);
const BUCKET = LOCAL_RESULTS_BUCKET_NAME;

let stack: LocalStack;
let s3: S3Client;
let scratch: string;

beforeAll(async () => {
  const { startLocalStack } = await import('../../local/stack.ts');
  stack = await startLocalStack({ port: 0, loadDemoData: false });
  // The SDK's defaults: no forcePathStyle, no checksum options. An IP endpoint is addressed by path.
  s3 = new S3Client({ endpoint: stack.url, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  scratch = await mkdtemp(join(tmpdir(), 'spectra-s3-test-'));
}, 120_000);

afterAll(async () => {
  s3?.destroy();
  await stack?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

async function readBack(key: string): Promise<Buffer> {
  const object = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return Buffer.from(
    await (object.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
  );
}

/** The AWS CLI against the stack, with no configuration but the endpoint and any keys. */
function aws(args: string[]) {
  return execFileAsync('aws', ['--endpoint-url', stack.url, ...args], {
    env: {
      ...process.env,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_DEFAULT_REGION: LOCAL_REGION,
      AWS_CONFIG_FILE: join(scratch, 'no-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(scratch, 'no-credentials'),
    },
  });
}

describe('Local S3: the results bucket on the endpoint', () => {
  it('has the results bucket from the start, and lists it', async () => {
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }));
    expect(listed.$metadata.httpStatusCode).toBe(200);
  });

  it('stores a PutObject with a Buffer body byte for byte', async () => {
    const bytes = randomBytes(17_000);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'paths/buffer', Body: bytes }));
    const back = await readBack('paths/buffer');
    expect(back.length).toBe(17_000);
    expect(sha256(back)).toBe(sha256(bytes));
  });

  it('stores a streamed PutObject (aws-chunked with a CRC32 trailer) byte for byte', async () => {
    const bytes = randomBytes(17_000);
    await s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: 'paths/stream',
        Body: Readable.from([bytes.subarray(0, 5000), bytes.subarray(5000)]),
        ContentLength: bytes.length,
      }),
    );
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'paths/stream' }));
    expect(head.ContentLength).toBe(17_000);
    expect(head.ContentEncoding).toBeUndefined();
    expect(sha256(await readBack('paths/stream'))).toBe(sha256(bytes));
  });

  it('stores a lib-storage multipart upload of a stream byte for byte', async () => {
    const bytes = randomBytes(12 * 1024 * 1024 + 123);
    const chunks = Array.from({ length: 13 }, (_, i) =>
      bytes.subarray(i * 1024 * 1024, (i + 1) * 1024 * 1024),
    );
    const upload = new Upload({
      client: s3,
      params: { Bucket: BUCKET, Key: 'paths/multipart', Body: Readable.from(chunks) },
      partSize: 5 * 1024 * 1024,
    });
    await upload.done();
    const back = await readBack('paths/multipart');
    expect(back.length).toBe(bytes.length);
    expect(sha256(back)).toBe(sha256(bytes));
  });

  it('stores a lib-storage upload of a stream smaller than a part (one PutObject) byte for byte', async () => {
    const bytes = randomBytes(70_000);
    const upload = new Upload({
      client: s3,
      params: {
        Bucket: BUCKET,
        Key: 'paths/one-part',
        Body: Readable.from([bytes.subarray(0, 30_000), bytes.subarray(30_000)]),
      },
    });
    await upload.done();
    expect(sha256(await readBack('paths/one-part'))).toBe(sha256(bytes));
  });

  it('stores a PutObject with a string body (as the manifest is written) byte for byte', async () => {
    const text = JSON.stringify({ columns: ['é', '✓'], rows: 3 });
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'paths/string', Body: text }));
    expect((await readBack('paths/string')).toString('utf8')).toBe(text);
  });

  it.each([
    ['one upload part', 2_000, false],
    ['a multipart upload', 90_000, true],
  ])(
    'stores a written result (%s) as the writer made it: every part gunzips to its rows',
    async (_, count, multipart) => {
      // Rows of 150 characters that gzip barely shrinks: 90,000 of them pass an 8 MiB upload part.
      const row = (i: number) => [i, randomBytes(108).toString('base64')];
      const rows = Array.from({ length: count }, (_, i) => row(i));
      const keyPrefix = `results/spectra-query/paths-${count}/st-1/`;
      const spill = new ResultSpill({
        s3,
        bucket: BUCKET,
        keyPrefix,
        statementId: 'st-1',
        columns: [
          { name: 'i', type: 'int4' },
          { name: 'text', type: 'varchar' },
        ],
        partBytes: 4 * 1024 * 1024,
        createdAt: new Date(),
        expiresAt: new Date(Date.now() + 86_400_000),
        downloadName: 'rows.jsonl.gz',
      });
      for (const each of rows) await spill.write(each);
      const written = await spill.finish();

      const manifest = JSON.parse(
        (await readBack(`${keyPrefix}manifest.json`)).toString('utf8'),
      ) as ResultManifest;
      const data = await readBack(`${keyPrefix}rows.jsonl.gz`);
      expect(data.length).toBe(written.bytes);
      // The writer's upload parts are 8 MiB: a larger object went up in parts.
      expect(data.length > 8 * 1024 * 1024).toBe(multipart);
      expect(data.length).toBe(manifest.parts.reduce((sum, part) => sum + part.bytes, 0));
      const lines = rows.map((each) => `${JSON.stringify(each)}\n`);
      expect(sha256(gunzipSync(data))).toBe(sha256(Buffer.from(lines.join(''))));
      for (const part of manifest.parts) {
        const range = data.subarray(part.offset, part.offset + part.bytes);
        expect(gunzipSync(range).toString('utf8')).toBe(
          lines.slice(part.rowOffset, part.rowOffset + part.rows).join(''),
        );
      }
    },
  );

  it('serves a presigned GET URL (path style) with the same bytes, and refuses it once expired', async () => {
    const bytes = randomBytes(4096);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'paths/presigned', Body: bytes }));
    const command = new GetObjectCommand({ Bucket: BUCKET, Key: 'paths/presigned' });
    const url = await getSignedUrl(s3, command, { expiresIn: 60 });
    expect(url.startsWith(`${stack.url}/${BUCKET}/paths/presigned?`)).toBe(true);
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(sha256(new Uint8Array(await response.arrayBuffer()))).toBe(sha256(bytes));

    // Signed an hour ago for 60 seconds: expired, whatever the machine's speed.
    const stale = await getSignedUrl(s3, command, {
      expiresIn: 60,
      signingDate: new Date(Date.now() - 3_600_000),
    });
    expect((await fetch(stale)).status).toBe(403);
  });

  it('works with the AWS CLI: s3 cp up and down keeps the bytes, s3 ls lists them', async () => {
    const bytes = randomBytes(300_000);
    const source = join(scratch, 'upload.bin');
    const target = join(scratch, 'download.bin');
    await writeFile(source, bytes);
    await aws(['s3', 'cp', source, `s3://${BUCKET}/cli/upload.bin`]);
    await aws(['s3', 'cp', `s3://${BUCKET}/cli/upload.bin`, target]);
    expect(sha256(await readFile(target))).toBe(sha256(bytes));
    // Past the CLI's 8 MB threshold, s3 cp uploads in parts.
    const large = randomBytes(9 * 1024 * 1024);
    await writeFile(source, large);
    await aws(['s3', 'cp', source, `s3://${BUCKET}/cli/large.bin`]);
    expect(sha256(await readBack('cli/large.bin'))).toBe(sha256(large));
    const { stdout } = await aws(['s3', 'ls', `s3://${BUCKET}/cli/`]);
    expect(stdout).toMatch(/\s300000 upload\.bin/);
    const buckets = await aws(['s3', 'ls']);
    expect(buckets.stdout).toContain(BUCKET);
  });

  it('applies the lifecycle rule as at a given time: objects past their expiry are deleted', async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'lifecycle/a', Body: 'a' }));
    const soon = await fetch(`${stack.url}/_spectra/results/expire`, {
      method: 'POST',
      body: JSON.stringify({ now: new Date().toISOString() }),
    });
    expect(((await soon.json()) as { expired: string[] }).expired).not.toContain('lifecycle/a');
    const later = await fetch(`${stack.url}/_spectra/results/expire`, {
      method: 'POST',
      body: JSON.stringify({ now: new Date(Date.now() + 9 * 86_400_000).toISOString() }),
    });
    expect(((await later.json()) as { expired: string[] }).expired).toContain('lifecycle/a');
    await expect(readBack('lifecycle/a')).rejects.toMatchObject({ name: 'NoSuchKey' });
  });
});
