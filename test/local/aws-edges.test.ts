import { request } from 'node:http';
import {
  InvalidToken,
  ListExecutionsCommand,
  SFNClient,
  ValidationException,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../local/stack.ts';
import { startStackWithApi } from '../support/local-stack.ts';

/**
 * The local endpoint at AWS's edges, over HTTP: operations looked up exactly, request bodies
 * capped before they are read, every request checked against the service's model, and test
 * controls that refuse values Node would silently change.
 */

let stack: LocalStack;
let sfn: SFNClient;

beforeAll(async () => {
  ({ stack } = await startStackWithApi({ loadDemoData: false }));
  sfn = new SFNClient({ endpoint: stack.url });
});

afterAll(async () => {
  sfn?.destroy();
  await stack?.stop();
});

async function call(target: string, body: unknown, contentType = 'application/x-amz-json-1.1') {
  const response = await fetch(stack.url, {
    method: 'POST',
    headers: { 'x-amz-target': target, 'content-type': contentType },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    type: response.headers.get('x-amzn-errortype'),
    body: (await response.json()) as { message?: string; Databases?: string[] },
  };
}

/** Sends headers that announce `declared` bytes (or a chunked body) and then `sent` bytes. */
function sendBody(options: {
  declared?: number;
  sent: number;
}): Promise<{ status: number; type?: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = {
      'x-amz-target': 'RedshiftData.ListDatabases',
      'content-type': 'application/x-amz-json-1.1',
    };
    if (options.declared !== undefined) headers['content-length'] = options.declared;
    const req = request(stack.url, { method: 'POST', headers }, (res) => {
      res.resume();
      resolve({
        status: res.statusCode ?? 0,
        type: res.headers['x-amzn-errortype'] as string | undefined,
      });
    });
    // The server may close the connection before everything is written: that is the point.
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'ECONNRESET' && error.code !== 'EPIPE') reject(error);
    });
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let written = 0;
    const writeMore = () => {
      while (written < options.sent) {
        written += chunk.length;
        if (!req.write(chunk)) {
          req.once('drain', writeMore);
          return;
        }
      }
      req.end();
    };
    // With a declared length and nothing sent, the answer must come without any body.
    if (options.sent > 0) writeMore();
    else req.flushHeaders();
  });
}

describe('Endpoint: operations', () => {
  it.each([
    'RedshiftData.constructor',
    'RedshiftData.toString',
    'AWSStepFunctions.constructor',
    'AWSStepFunctions.hasOwnProperty',
  ])('answers UnknownOperationException to %s', async (target) => {
    // Act
    const answer = await call(target, {});

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.type).toBe('UnknownOperationException');
  });
});

describe('Endpoint: request size', () => {
  it('answers 413 to a declared 64 MiB body before any of it is sent', async () => {
    // Act
    const answer = await sendBody({ declared: 64 * 1024 * 1024, sent: 0 });

    // Assess
    expect(answer).toEqual({ status: 413, type: 'RequestEntityTooLargeException' });
  });

  it('answers 413 to a chunked body once it passes the cap', async () => {
    // Act
    const answer = await sendBody({ sent: 8 * 1024 * 1024 });

    // Assess
    expect(answer).toEqual({ status: 413, type: 'RequestEntityTooLargeException' });
  });

  it('still answers a request under the cap', async () => {
    // Act
    const answer = await call('RedshiftData.ListDatabases', {
      ClusterIdentifier: 'spectra-local',
      Database: 'dev',
      DbUser: 'tenant_acme',
    });

    // Assess
    expect(answer).toMatchObject({ status: 200, body: { Databases: ['dev'] } });
  });
});

describe('Step Functions: requests checked against the model', () => {
  it.each([1001, -1])('refuses maxResults %s with ValidationException', async (maxResults) => {
    // Act
    const error = await sfn
      .send(new ListExecutionsCommand({ stateMachineArn: stack.stateMachineArn, maxResults }))
      .catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(ValidationException);
    expect((error as Error).message).toContain(
      `Value '${maxResults}' at 'maxResults' failed to satisfy constraint`,
    );
  });

  it('refuses a nextToken it did not issue with InvalidToken', async () => {
    // Act
    const error = await sfn
      .send(new ListExecutionsCommand({ stateMachineArn: stack.stateMachineArn, nextToken: '5' }))
      .catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(InvalidToken);
  });

  it('refuses an unknown statusFilter, naming the values allowed', async () => {
    // Act
    const answer = await call(
      'AWSStepFunctions.ListExecutions',
      { stateMachineArn: stack.stateMachineArn, statusFilter: 'DONE' },
      'application/x-amz-json-1.0',
    );

    // Assess
    expect(answer.type).toBe('ValidationException');
    expect(answer.body.message).toContain(
      'Member must satisfy enum value set: [ABORTED, FAILED, PENDING_REDRIVE, RUNNING, SUCCEEDED, TIMED_OUT]',
    );
  });

  it('refuses an object input with SerializationException instead of running "{}"', async () => {
    // Act
    const answer = await call(
      'AWSStepFunctions.StartExecution',
      { stateMachineArn: stack.stateMachineArn, input: { tenantId: 'acme' } },
      'application/x-amz-json-1.0',
    );

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.type).toBe('SerializationException');
  });

  it('refuses a missing required member as AWS words it', async () => {
    // Act
    const answer = await call(
      'AWSStepFunctions.DescribeExecution',
      {},
      'application/x-amz-json-1.0',
    );

    // Assess
    expect(answer.type).toBe('ValidationException');
    expect(answer.body.message).toBe(
      "1 validation error detected: Value null at 'executionArn' failed to satisfy constraint: Member must not be null",
    );
  });
});

describe('Test controls: out-of-range values', () => {
  async function control(path: string, body: unknown) {
    const response = await fetch(`${stack.url}/_spectra/${path}`, {
      method: 'POST',
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as { message?: string } };
  }

  it.each([2 ** 31, 1.5, -1])('refuses a latency of %s ms', async (ms) => {
    // Act
    const answer = await control('latency', { target: 'RedshiftData.ExecuteStatement', ms });

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.body.message).toContain('a whole number from 0 to 2147483647');
  });

  it('takes the largest latency a timer keeps', async () => {
    // Act
    const answer = await control('latency', {
      target: 'RedshiftData.ListSchemas',
      ms: 2 ** 31 - 1,
    });
    await control('reset', {});

    // Assess
    expect(answer.status).toBe(200);
  });

  it('refuses a statement hold at a status where no statement waits, and names those there are', async () => {
    // Act
    const refused = await control('statements/hold', { sqlContains: 'x', status: 'FINISHED' });
    const taken = await control('statements/hold', { sqlContains: 'x', status: 'RAN' });
    await control('reset', {});

    // Assess
    expect(refused.status).toBe(400);
    expect(refused.body.message).toContain('"status"?: "STARTED", "PICKED", "RAN" or "COMMITTED"');
    expect(taken.status).toBe(200);
  });

  it('refuses a fault with a status that is no error status', async () => {
    // Act
    const answer = await control('faults', {
      target: 'RedshiftData.ExecuteStatement',
      error: 'ThrottlingException',
      statusCode: 200,
    });

    // Assess
    expect(answer.status).toBe(400);
  });
});
