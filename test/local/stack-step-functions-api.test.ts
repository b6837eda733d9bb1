import { randomUUID } from 'node:crypto';
import {
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  InvalidArn,
  ListExecutionsCommand,
  ListStateMachinesCommand,
} from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { STATES } from '../../statemachine/definition.ts';
import { useWorkflowStack } from '../support/workflow-stack.ts';

/** The local stack's Step Functions API as the SDK sees it: the state machine, executions, errors. */

const local = useWorkflowStack();
const { holdStatements, run, start, waitForEnd } = local;

describe('Local stack: the Step Functions API', () => {
  it('lists and describes the spectra-query state machine with its functions substituted', async () => {
    const { stateMachines } = await local.sfn.send(new ListStateMachinesCommand({}));
    expect(stateMachines?.map((s) => s.name)).toContain('spectra-query');

    const described = await local.sfn.send(
      new DescribeStateMachineCommand({ stateMachineArn: local.stack.stateMachineArn }),
    );
    expect(described.status).toBe('ACTIVE');
    expect(described.definition).not.toContain('${');
    expect(JSON.parse(described.definition ?? '{}').StartAt).toBe(STATES.acquire);
  });

  it('starts the same execution again for the same name and input, and refuses other input', async () => {
    // Prepare
    // Prepare: the first execution runs (its statement held) until the test is done with it
    const name = `same-${randomUUID()}`;
    const marker = `hold-${randomUUID()}`;
    const held = await holdStatements(marker);
    const input = { tenantId: 'globex', sql: `select 1 -- ${marker}` };

    // Act
    const first = await start(input, name);
    const again = await start(input, name);

    // Assess
    expect(again).toBe(first);
    await expect(start({ ...input, sql: 'select 2' }, name)).rejects.toBeInstanceOf(
      ExecutionAlreadyExists,
    );
    await held.release();
    await waitForEnd(first);
  });

  it('lists executions by status, newest first, page by page', async () => {
    const failed = await run({ tenantId: 'acme', sql: 'select nonsense from nowhere' });

    const page = await local.sfn.send(
      new ListExecutionsCommand({
        stateMachineArn: local.stack.stateMachineArn,
        statusFilter: 'FAILED',
        maxResults: 1,
      }),
    );

    expect(page.executions?.map((e) => e.executionArn)).toEqual([failed.executionArn]);
    expect(page.executions?.[0]?.status).toBe('FAILED');
  });

  it("answers unknown executions and malformed ARNs with AWS's errors", async () => {
    const missing = `${local.stack.stateMachineArn.replace(':stateMachine:', ':execution:')}:nope`;
    await expect(
      local.sfn.send(new DescribeExecutionCommand({ executionArn: missing })),
    ).rejects.toBeInstanceOf(ExecutionDoesNotExist);
    await expect(
      local.sfn.send(new DescribeExecutionCommand({ executionArn: 'not-an-arn' })),
    ).rejects.toBeInstanceOf(InvalidArn);
  });

  it('answers an unknown X-Amz-Target with UnknownOperationException', async () => {
    const response = await fetch(local.stack.url, {
      method: 'POST',
      headers: { 'x-amz-target': 'Nope.DoThing' },
      body: '{}',
    });

    expect(response.status).toBe(400);
    expect(response.headers.get('x-amzn-errortype')).toBe('UnknownOperationException');
    expect(await response.json()).toEqual(
      expect.objectContaining({ __type: 'UnknownOperationException' }),
    );
  });
});
