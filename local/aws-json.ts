import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { RequestRules, ServiceModel } from './service-model.ts';

/**
 * The AWS JSON protocol (awsJson1_0 / awsJson1_1) as the local services speak it: `POST /` with an
 * `X-Amz-Target: <Prefix>.<Operation>` header and a JSON body; errors as an HTTP status, a
 * `__type` in the body and the same name in `x-amzn-errortype`, so that the real SDKs raise their
 * modelled exception classes. No `code` key is ever written: newer SDKs would read it first.
 */

/** An error a local service answers with, as the real service would. */
export class AwsServiceError extends Error {
  constructor(
    /** The short exception name, e.g. `ValidationException`. */
    readonly type: string,
    message: string,
    /** 400 for client faults, 404 for missing resources, 500 for server faults. */
    readonly statusCode = 400,
    /** Modelled members besides the message, e.g. `{ ResourceId }` or `{ StatementId }`. */
    readonly fields: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'AwsServiceError';
  }
}

/**
 * A response body already written as JSON text, for the responses JSON.stringify cannot write
 * (integers beyond 2^53, which must reach the wire with every digit).
 */
export class JsonText {
  constructor(readonly text: string) {}
}

export function writeJson(
  res: ServerResponse,
  statusCode: number,
  body: unknown,
  contentType: string,
): void {
  const text = body instanceof JsonText ? body.text : JSON.stringify(body ?? {});
  res.writeHead(statusCode, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
  });
  res.end(text);
}

export function writeAwsError(
  res: ServerResponse,
  error: AwsServiceError,
  contentType: string,
): void {
  const text = JSON.stringify({ __type: error.type, message: error.message, ...error.fields });
  res.writeHead(error.statusCode, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(text),
    'x-amzn-errortype': error.type,
    'x-amzn-requestid': randomUUID(),
  });
  res.end(text);
}

/**
 * A local service that answers one `X-Amz-Target` prefix. `handle` returns the response body or
 * throws an {@link AwsServiceError}; anything else thrown becomes an `InternalServerException`.
 */
export interface AwsJsonService {
  /** e.g. `RedshiftData` or `AWSStepFunctions`. */
  targetPrefix: string;
  /** `application/x-amz-json-1.1` (Redshift Data) or `application/x-amz-json-1.0` (Step Functions). */
  contentType: string;
  handle(operation: string, input: Record<string, unknown>): Promise<unknown>;
  close?(): Promise<void>;
  /**
   * The service's model and the rules the SDK's schemas leave out: the endpoint checks each
   * request against them (operation, types, required members, constraints) before `handle`.
   */
  model?: { model: ServiceModel; rules: RequestRules };
  /** Largest request body the service takes, in bytes; a larger one is answered 413 unread. */
  maxRequestBytes?: number;
}
