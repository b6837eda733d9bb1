import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { SHORT_QUERY_PATH } from '../../statemachine/definition.ts';
import { useWorkflowStack } from '../support/workflow-stack.ts';

/** Only this machine drives the local stack from a browser: Host and Origin checks, and the console's JSON. */

const local = useWorkflowStack();
const { run } = local;

/** A GET as a browser would send it, with the Host and Origin headers the test chooses. */
function get(path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const sent = request(`${local.stack.url}${path}`, { headers }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    sent.on('error', reject);
    sent.end();
  });
}

describe('Local stack: only this machine drives it from a browser', () => {
  const own = () => `127.0.0.1:${local.stack.port}`;

  it.each(['/console', '/console/api/executions', '/_spectra/counters'])(
    'answers %s for a loopback Host and Origin, and refuses a foreign Host or Origin with 403',
    async (path) => {
      expect(await get(path, { host: own(), origin: `http://${own()}` })).toBe(200);
      expect(await get(path, { host: `localhost:${local.stack.port}` })).toBe(200);
      // DNS rebinding: a foreign name that now points here.
      expect(await get(path, { host: `attacker.example:${local.stack.port}` })).toBe(403);
      // Another loopback port is another origin.
      expect(await get(path, { host: `127.0.0.1:${local.stack.port + 1}` })).toBe(403);
      // A script on a page elsewhere.
      expect(await get(path, { host: own(), origin: 'http://attacker.example' })).toBe(403);
      expect(await get(path, { host: own(), origin: 'null' })).toBe(403);
    },
  );

  it("answers the console's JSON with AWS's view of an execution, and a bad filter with 400", async () => {
    const { executionArn } = await run({ tenantId: 'acme', sql: 'select 1 as one' });

    const detail = await fetch(
      `${local.stack.url}/console/api/executions/${encodeURIComponent(executionArn)}`,
    );
    const badFilter = await fetch(`${local.stack.url}/console/api/executions?status=NOPE`);
    const missing = await fetch(
      `${local.stack.url}/console/api/executions/${encodeURIComponent(`${executionArn}-nope`)}`,
    );

    expect(detail.status).toBe(200);
    const body = (await detail.json()) as {
      query: { status: string; tenantId: string };
      timeline: { state: string }[];
      events: { type: string }[];
    };
    expect([body.query.status, body.query.tenantId]).toEqual(['SUCCEEDED', 'acme']);
    expect(body.timeline.map((visit) => visit.state)).toEqual(SHORT_QUERY_PATH);
    expect(body.events.at(-1)?.type).toBe('ExecutionSucceeded');
    expect(badFilter.status).toBe(400);
    expect(((await badFilter.json()) as { message: string }).message).toContain(
      'status must be one of RUNNING, SUCCEEDED',
    );
    expect(missing.status).toBe(404);
  });

  it('refuses an AWS API call from a foreign page, and serves the SDK, which sends no Origin', async () => {
    const call = (headers: Record<string, string>) =>
      fetch(local.stack.url, {
        method: 'POST',
        headers: {
          'x-amz-target': 'AWSStepFunctions.ListStateMachines',
          'content-type': 'application/x-amz-json-1.0',
          ...headers,
        },
        body: '{}',
      });

    expect((await call({ origin: 'http://attacker.example' })).status).toBe(403);
    expect((await call({ origin: `http://127.0.0.1:${local.stack.port}` })).status).toBe(200);
    expect((await call({})).status).toBe(200);
  });
});
