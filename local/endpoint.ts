import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type AwsJsonService, AwsServiceError, writeAwsError, writeJson } from './aws-json.ts';
import { type Fault, FaultPlan } from './faults.ts';
import { checkRequest } from './service-model.ts';

/**
 * The local stack's one HTTP endpoint. Every request is routed by its `X-Amz-Target` header
 * (`RedshiftData.*`, `AWSStepFunctions.*`, `DynamoDB_20120810.*`), which is how the AWS SDKs and
 * the AWS CLI address JSON-protocol services, so one `AWS_ENDPOINT_URL` serves them all. S3, a
 * REST protocol with no such header, is routed by path: requests for a bucket it hosts
 * (`/<bucket>/...`, path style) and the bucket list (`GET /`). Signatures are not checked: any
 * credentials work.
 *
 * It only routes: every call passes the {@link FaultPlan} first, which counts it and may delay,
 * hold or fail it, for any of the services.
 */

/** A service mounted as a plain Node request listener (dynalite is one). */
export interface RawService {
  targetPrefix: string;
  contentType: string;
  listener: (req: IncomingMessage, res: ServerResponse) => void;
}

export interface EndpointOptions {
  host?: string;
  /** 0 picks a free port. */
  port: number;
  services?: AwsJsonService[];
  rawServices?: RawService[];
  /** Shared with the local Step Functions' invocations; default: a plan of the endpoint's own. */
  faults?: FaultPlan;
  /** Requests under `/_spectra/`; loopback callers only. */
  controlRoutes?: ControlRoutes;
}

/** S3 on the endpoint (local/s3/s3-service.ts): which requests are its, and their listener. */
export interface PathRoutedService {
  handles(req: IncomingMessage, path: string): boolean;
  listener(req: IncomingMessage, res: ServerResponse): void;
}

/** The handler of the console's requests (paths under `/console`). */
export type PageRoutes = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export type ControlRoutes = (
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer,
) => Promise<void>;

export interface Endpoint {
  server: Server;
  url: string;
  port: number;
  faults: FaultPlan;
  /**
   * Adds a service after start. The stack binds the port first because the in-process functions
   * must know the endpoint's URL before they are loaded.
   */
  mount(service: AwsJsonService | RawService): void;
  /** Installs the handler of the `/_spectra/` test controls. */
  controlRoutes(handler: ControlRoutes): void;
  /** Installs the handler of the console (`/console`). */
  consoleRoutes(handler: PageRoutes): void;
  /** Installs S3, which answers the requests it {@link PathRoutedService.handles}. */
  s3(service: PathRoutedService): void;
  close(): Promise<void>;
}

/**
 * Request bodies are capped as AWS caps them (Step Functions takes 1 MB; the Data API's largest
 * request, 40 statements of 100 KB, needs 4 MB; DynamoDB takes 16 MB): a body over the cap is
 * refused with 413 before it is buffered, by its Content-Length, or, sent chunked, as soon as the
 * bytes read pass the cap.
 */
export const DEFAULT_MAX_REQUEST_BYTES = 5 * 1024 * 1024;
const DYNAMODB_MAX_REQUEST_BYTES = 16 * 1024 * 1024;
const CONTROL_MAX_REQUEST_BYTES = 1024 * 1024;

class RequestTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`The request body is larger than the ${limit} bytes this service accepts`);
    this.name = 'RequestTooLargeError';
  }
}

function declaredTooLarge(req: IncomingMessage, limit: number): boolean {
  const declared = Number(req.headers['content-length']);
  return Number.isFinite(declared) && declared > limit;
}

async function readBody(req: IncomingMessage, limit = CONTROL_MAX_REQUEST_BYTES): Promise<Buffer> {
  if (declaredTooLarge(req, limit)) throw new RequestTooLargeError(limit);
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of req) {
    bytes += (chunk as Buffer).length;
    if (bytes > limit) throw new RequestTooLargeError(limit);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** 413, and the connection closed: the rest of the body is not read. */
function writeRequestTooLarge(
  req: IncomingMessage,
  res: ServerResponse,
  error: RequestTooLargeError,
  contentType: string,
): void {
  res.setHeader('connection', 'close');
  writeAwsError(
    res,
    new AwsServiceError('RequestEntityTooLargeException', error.message, 413),
    contentType,
  );
  res.once('finish', () => req.destroy());
}

const awsErrorOf = (fault: Fault) =>
  new AwsServiceError(fault.error, fault.message, fault.statusCode);

const isLoopback = (address: string | undefined) =>
  address !== undefined &&
  (address.startsWith('127.') || address === '::1' || address === '::ffff:127.0.0.1');

/** The names this machine's browsers and tools use for the stack: only loopback ones. */
const loopbackHosts = (port: number) => [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`];

/**
 * Why a request may not be answered, if it may not. A web page the developer opens elsewhere
 * must not drive the stack from their browser: a request a foreign page's script sends carries
 * that page's `Origin`, and one sent after DNS rebinding (a foreign name now pointing here) carries
 * that name in `Host`. So no route answers a foreign Origin; the test controls and the console,
 * which a browser reaches with no AWS signature in between, also want a loopback caller and a
 * loopback Host with the stack's port.
 */
function refusal(req: IncomingMessage, port: number, localOnly: boolean): string | undefined {
  const hosts = loopbackHosts(port);
  const { origin, host } = req.headers;
  if (origin !== undefined && !hosts.some((allowed) => origin === `http://${allowed}`)) {
    return `Requests from the page at ${origin} are refused: only this machine's own pages (http://127.0.0.1:${port}) may call the local stack`;
  }
  if (!localOnly) return undefined;
  if (!isLoopback(req.socket.remoteAddress))
    return 'The console and the test controls answer only loopback callers';
  if (host === undefined || !hosts.includes(host)) {
    return `Host ${host ?? '(none)'} is refused: use ${hosts.join(', ')}`;
  }
  return undefined;
}

const LOCAL_ONLY = /^\/(_spectra\/|console(\/|$))/;

/** A request the service's model refuses never reaches the service (see service-model.ts). */
function checkAgainstModel(
  service: AwsJsonService,
  operation: string,
  input: Record<string, unknown>,
): void {
  if (service.model)
    checkRequest(service.model.model, service.model.rules, service.targetPrefix, operation, input);
}

export async function startEndpoint(options: EndpointOptions): Promise<Endpoint> {
  const faults = options.faults ?? new FaultPlan();
  const services = new Map((options.services ?? []).map((s) => [s.targetPrefix, s]));
  const raw = new Map((options.rawServices ?? []).map((s) => [s.targetPrefix, s]));
  let controlHandler = options.controlRoutes;
  let consoleHandler: PageRoutes | undefined;
  let s3: PathRoutedService | undefined;
  let port = 0;

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (error instanceof RequestTooLargeError && !res.headersSent) {
        writeRequestTooLarge(req, res, error, 'application/x-amz-json-1.1');
        return;
      }
      if (!res.headersSent) {
        writeAwsError(
          res,
          new AwsServiceError('InternalServerException', String(error), 500),
          'application/x-amz-json-1.1',
        );
      }
    });
  });
  // Idle keep-alive connections stay open until their client closes them (or close() below).
  // Node closes them after 5 s by default, and the SDK's agent never retires an idle socket
  // itself, so a request sent as the server closes its socket meets ECONNRESET: a fault of the
  // transport, not of any service, which a caller with one attempt sees as a failed call.
  server.keepAliveTimeout = 0;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const refused = refusal(req, port, LOCAL_ONLY.test(path));
    if (refused !== undefined) {
      // Not read: whatever its size, the answer is the same.
      req.resume();
      writeJson(res, 403, { message: refused }, 'application/json');
      return;
    }
    if (path === '/console' || path.startsWith('/console/')) {
      if (consoleHandler) await consoleHandler(req, res);
      else writeJson(res, 404, { message: 'No console on this endpoint' }, 'application/json');
      return;
    }
    if (path.startsWith('/_spectra/')) {
      const body = await readBody(req);
      if (controlHandler) await controlHandler(req, res, body);
      else
        writeJson(res, 404, { message: 'No test controls on this endpoint' }, 'application/json');
      return;
    }
    if (s3?.handles(req, path)) {
      s3.listener(req, res);
      return;
    }
    const target = String(req.headers['x-amz-target'] ?? '');
    const [prefix = '', operation = ''] = target.split('.');

    const rawService = raw.get(prefix);
    if (rawService) {
      // The raw service reads the body itself; only a declared length can be refused up front.
      if (declaredTooLarge(req, DYNAMODB_MAX_REQUEST_BYTES))
        throw new RequestTooLargeError(DYNAMODB_MAX_REQUEST_BYTES);
      const fault = await faults.enter(target);
      if (fault) {
        await readBody(req, DYNAMODB_MAX_REQUEST_BYTES);
        writeAwsError(res, awsErrorOf(fault), rawService.contentType);
        return;
      }
      // A response hold keeps the answer of a call the service has carried out.
      const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
      res.end = ((...args: unknown[]) => {
        void faults.leave(target).then(() => end(...args));
        return res;
      }) as ServerResponse['end'];
      rawService.listener(req, res);
      return;
    }

    const service = services.get(prefix);
    const body = await readBody(req, service?.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES);
    if (!service || req.method !== 'POST' || operation === '') {
      writeAwsError(
        res,
        new AwsServiceError(
          'UnknownOperationException',
          target ? `Unknown operation ${target}` : 'Missing X-Amz-Target header',
        ),
        'application/x-amz-json-1.1',
      );
      return;
    }
    const fault = await faults.enter(target);
    if (fault) {
      writeAwsError(res, awsErrorOf(fault), service.contentType);
      return;
    }
    let input: Record<string, unknown>;
    try {
      const parsed: unknown = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
        throw new Error('not an object');
      input = parsed as Record<string, unknown>;
    } catch {
      writeAwsError(
        res,
        new AwsServiceError('SerializationException', 'The request body is not a JSON object'),
        service.contentType,
      );
      return;
    }
    try {
      checkAgainstModel(service, operation, input);
      const output = await service.handle(operation, input);
      await faults.leave(target);
      writeJson(res, 200, output, service.contentType);
    } catch (error) {
      const awsError =
        error instanceof AwsServiceError
          ? error
          : new AwsServiceError(
              'InternalServerException',
              error instanceof Error ? error.message : String(error),
              500,
            );
      writeAwsError(res, awsError, service.contentType);
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    faults,
    mount(service) {
      if ('listener' in service) raw.set(service.targetPrefix, service);
      else services.set(service.targetPrefix, service);
    },
    controlRoutes(handler) {
      controlHandler = handler;
    },
    consoleRoutes(handler) {
      consoleHandler = handler;
    },
    s3(service) {
      s3 = service;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all([...services.values()].map((s) => s.close?.()));
    },
  };
}
