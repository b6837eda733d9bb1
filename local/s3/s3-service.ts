import { mkdtemp, rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DeleteObjectsCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  S3Client,
} from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { DUMMY_ACCOUNT } from 's3rver/lib/models/account.js';
import { resultExpiresAt } from '../../functions/common/result-store.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../identity.ts';
import { AwsChunkedDecoder, decodedHeaders, isAwsChunked } from './aws-chunked.ts';

/**
 * S3 on the local endpoint: s3rver (a Koa app that keeps objects in a directory), mounted on the
 * one port and addressed by path (`http://127.0.0.1:<port>/<bucket>/<key>`), with the buckets it
 * hosts created at start. What it lacks, the local stack adds here:
 *
 * - aws-chunked uploads (the SDK's default for a streamed PutObject, see aws-chunked.ts) are
 *   decoded before s3rver sees them, so every upload stores exactly the bytes sent;
 * - the results bucket's lifecycle rule, which S3 applies and s3rver does not, is applied on
 *   request with the time given ({@link LocalS3.expireResults}): a test makes a result expire
 *   without waiting days.
 *
 * Not emulated: signatures (s3rver checks a presigned URL's expiry, not its signature), bucket
 * policies, encryption, versioning.
 */

export interface LocalS3Options {
  /** The endpoint's URL, for the stack's own S3 calls (the lifecycle). */
  endpoint: string;
  buckets: string[];
  /** The lifecycle rule of every bucket: objects expire this many days after their creation. */
  retentionDays: number;
}

export interface LocalS3 {
  /** Whether a request without `X-Amz-Target` is for S3: a bucket's path, or the bucket list. */
  handles(req: IncomingMessage, path: string): boolean;
  listener(req: IncomingMessage, res: ServerResponse): void;
  /**
   * Applies the lifecycle rule as at `now`: deletes each object whose expiry (creation plus the
   * retention days, at the next midnight UTC) has come. Returns the keys deleted.
   */
  expireResults(now: Date): Promise<string[]>;
  close(): Promise<void>;
}

/** The access key a request is signed with: SigV4 header, or a presigned URL's credential. */
function accessKeyOf(req: IncomingMessage): string | undefined {
  const header = /Credential=([^/,\s]+)\//.exec(String(req.headers.authorization ?? ''));
  if (header) return header[1];
  const query = new URL(req.url ?? '/', 'http://local').searchParams;
  return query.get('X-Amz-Credential')?.split('/')[0] ?? query.get('AWSAccessKeyId') ?? undefined;
}

/** A request whose body is a decoded aws-chunked body: the same request, as s3rver needs to see it. */
function decodedRequest(req: IncomingMessage): IncomingMessage {
  const length = req.headers['x-amz-decoded-content-length'];
  const decoder = new AwsChunkedDecoder(length === undefined ? undefined : Number(length));
  req.pipe(decoder);
  req.on('error', (error) => decoder.destroy(error));
  // Koa reads the method, URL, headers and socket of the request it gets, and s3rver reads the
  // body from it as a stream: the decoder, dressed as the request, is all of that.
  return Object.assign(decoder, {
    headers: decodedHeaders(req.headers),
    rawHeaders: [],
    method: req.method,
    url: req.url,
    httpVersion: req.httpVersion,
    httpVersionMajor: req.httpVersionMajor,
    httpVersionMinor: req.httpVersionMinor,
    socket: req.socket,
    connection: req.socket,
  }) as unknown as IncomingMessage;
}

export async function startLocalS3(options: LocalS3Options): Promise<LocalS3> {
  const directory = await mkdtemp(join(tmpdir(), 'spectra-s3-'));
  const app = new S3rver({
    directory,
    silent: true,
    // Path-style only: a host name is never read as a bucket.
    vhostBuckets: false,
    configureBuckets: options.buckets.map((name) => ({ name, configs: [] })),
  });
  await app.configureBuckets();
  const callback = app.callback();
  const buckets = new Set(options.buckets);
  const client = new S3Client({
    endpoint: options.endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    forcePathStyle: true,
  });

  return {
    handles(req, path) {
      if (req.headers['x-amz-target'] !== undefined) return false;
      if (path === '/') return req.method === 'GET';
      return buckets.has(decodeURIComponent(path.split('/')[1] ?? ''));
    },

    listener(req, res) {
      // s3rver refuses keys it does not know; the local stack takes any credentials, so each key
      // is made known to it as it comes (it checks no signature either way).
      const accessKey = accessKeyOf(req);
      if (accessKey !== undefined) DUMMY_ACCOUNT.createKeyPair(accessKey, accessKey);
      callback(isAwsChunked(req.headers) ? decodedRequest(req) : req, res);
    },

    async expireResults(now) {
      const expired: string[] = [];
      for (const bucket of buckets) {
        let token: string | undefined;
        do {
          const page: ListObjectsV2CommandOutput = await client.send(
            new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }),
          );
          const due = (page.Contents ?? []).filter(
            (object) =>
              object.Key !== undefined &&
              object.LastModified !== undefined &&
              resultExpiresAt(object.LastModified, options.retentionDays) <= now,
          );
          if (due.length > 0) {
            await client.send(
              new DeleteObjectsCommand({
                Bucket: bucket,
                Delete: { Objects: due.map((object) => ({ Key: object.Key })) },
              }),
            );
            expired.push(...due.map((object) => object.Key as string));
          }
          token = page.NextContinuationToken;
        } while (token);
      }
      return expired;
    },

    async close() {
      client.destroy();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
