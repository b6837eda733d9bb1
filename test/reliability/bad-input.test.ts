import { randomUUID } from 'node:crypto';
import { InvalidExecutionInput } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BAD_INPUTS, runBadInput } from '../../bench/chaos/bad-inputs.ts';
import type { StackApi } from '../../bench/chaos/stack-api.ts';
import type { LocalStack } from '../../local/stack.ts';
import { startStackWithApi } from '../support/local-stack.ts';

/**
 * Malformed execution inputs through the local stack's StartExecution, as a caller sends them:
 * each must fail with InvalidInputError, say which field is wrong and what it allows, and leave
 * DynamoDB and the Data API untouched (the endpoint's call counters do not move).
 */

let stack: LocalStack;
let api: StackApi;

beforeAll(async () => {
  // No SQL runs here, so the demo data is not needed.
  ({ stack, api } = await startStackWithApi({ loadDemoData: false }));
}, 120_000);

afterAll(async () => {
  api?.destroy();
  await stack?.stop();
});

describe('Reliability: malformed execution input', () => {
  it.each(BAD_INPUTS.map((badInput) => [badInput.name, badInput] as const))(
    'fails %s with InvalidInputError before touching anything',
    async (_, badInput) => {
      // Act
      const result = await runBadInput(api, badInput, `bad-input-${randomUUID()}`);

      // Assess
      expect(result.status).toBe('FAILED');
      expect(result.error).toBe('InvalidInputError');
      expect(result.message).toContain(badInput.field);
      expect(result.message).toContain(badInput.allowed);
      expect(result.dynamoDbCalls).toBe(0);
      expect(result.dataApiCalls).toBe(0);
    },
  );

  it('fails an input over the 256 KiB Step Functions limit at StartExecution, starting nothing', async () => {
    // Prepare
    const before = await api.counters();

    // Act
    const started = api.start(`bad-input-${randomUUID()}`, {
      tenantId: 'acme',
      sql: `select '${'x'.repeat(270_000)}'`,
    });

    // Assess
    await expect(started).rejects.toBeInstanceOf(InvalidExecutionInput);
    const after = await api.counters();
    expect(after.lambdaInvocations).toEqual(before.lambdaInvocations);
  });
});
