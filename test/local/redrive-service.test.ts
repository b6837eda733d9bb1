import { describe, expect, it } from 'vitest';
import type { LambdaHandler } from '../../functions/common/handler.ts';
import type { WorkflowFunctionName } from '../../functions/registry.ts';
import { AwsServiceError } from '../../local/aws-json.ts';
import { localFunctionArn } from '../../local/identity.ts';
import { LocalStepFunctions } from '../../local/stepfunctions/service.ts';

/**
 * RedriveExecution in the local Step Functions, on small definitions whose one Task calls a
 * handler the test scripts: which state runs again, with which input, what the history and
 * DescribeExecution say, and AWS's rules and errors.
 */

const DAY_MS = 24 * 60 * 60 * 1000;

/** Prepare → Work (a Task that fails until the test lets it succeed) → Done. */
const definition = {
  StartAt: 'Prepare',
  States: {
    Prepare: { Type: 'Pass', Result: { step: 'prepared' }, ResultPath: '$.prepared', Next: 'Work' },
    Work: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: {
        FunctionName: localFunctionArn('FetchResults'),
        Payload: { 'state.$': '$', 'redriveCount.$': '$$.Execution.RedriveCount' },
      },
      OutputPath: '$.Payload',
      Next: 'Done',
    },
    Done: { Type: 'Succeed' },
  },
};

function harness() {
  let now = Date.parse('2026-11-28T12:00:00Z');
  const calls: unknown[] = [];
  let failing = true;
  const work: LambdaHandler = async (event) => {
    calls.push(event);
    if (failing) throw Object.assign(new Error('Rate exceeded'), { name: 'TransientServiceError' });
    return { done: true, saw: event };
  };
  const handlers = { FetchResults: work } as unknown as Record<WorkflowFunctionName, LambdaHandler>;
  const ended: string[] = [];
  const service = new LocalStepFunctions({
    handlers,
    clock: () => now,
    onExecutionEnded: async (event) => {
      ended.push(event.detail.status);
    },
  });
  const stateMachineArn = service.register('redrive-test', JSON.stringify(definition));
  const call = (operation: string, input: Record<string, unknown>) =>
    service.handle(operation, input) as Promise<Record<string, unknown>>;
  return {
    service,
    calls,
    ended,
    call,
    letSucceed: () => {
      failing = false;
    },
    advance: (ms: number) => {
      now += ms;
    },
    async startAndSettle(input: unknown = { query: 'q' }) {
      const { executionArn } = await call('StartExecution', {
        stateMachineArn,
        input: JSON.stringify(input),
      });
      await service.drain();
      return executionArn as string;
    },
    async history(executionArn: string) {
      const { events } = await call('GetExecutionHistory', { executionArn });
      return events as {
        id: number;
        previousEventId: number;
        type: string;
        [k: string]: unknown;
      }[];
    },
  };
}

async function failure(promise: Promise<unknown>): Promise<AwsServiceError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AwsServiceError);
  return error as AwsServiceError;
}

describe('Local Step Functions: RedriveExecution', () => {
  it('runs the failed state again with its recorded input, and not the states before it', async () => {
    // Prepare
    const h = harness();
    const executionArn = await h.startAndSettle();
    expect(await h.call('DescribeExecution', { executionArn })).toEqual(
      expect.objectContaining({
        status: 'FAILED',
        error: 'TransientServiceError',
        redriveCount: 0,
        redriveStatus: 'REDRIVABLE',
      }),
    );
    h.letSucceed();

    // Act
    h.advance(60_000);
    const { redriveDate } = await h.call('RedriveExecution', { executionArn });
    await h.service.drain();

    // Assess
    const described = await h.call('DescribeExecution', { executionArn });
    expect(described).toEqual(
      expect.objectContaining({
        executionArn,
        status: 'SUCCEEDED',
        redriveCount: 1,
        redriveDate,
        redriveStatus: 'NOT_REDRIVABLE',
        redriveStatusReason: 'Execution is SUCCEEDED and cannot be redriven',
      }),
    );
    expect(JSON.parse(described.output as string)).toEqual({
      done: true,
      saw: { state: { query: 'q', prepared: { step: 'prepared' } }, redriveCount: 1 },
    });
    // The Task saw the same state input both times; only its $$.Execution.RedriveCount differs.
    expect(h.calls).toEqual(
      [
        { query: 'q', prepared: { step: 'prepared' } },
        { query: 'q', prepared: { step: 'prepared' } },
      ].map((state, redriveCount) => ({ state, redriveCount })),
    );
    expect(h.ended).toEqual(['FAILED']);
  });

  it('continues the history after ExecutionRedriven, from the failed state as it was entered', async () => {
    // Prepare
    const h = harness();
    const executionArn = await h.startAndSettle();
    h.letSucceed();

    // Act
    await h.call('RedriveExecution', { executionArn });
    await h.service.drain();

    // Assess
    const events = await h.history(executionArn);
    expect(events.map((e) => e.type)).toEqual([
      'ExecutionStarted',
      'PassStateEntered',
      'PassStateExited',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskFailed',
      'ExecutionFailed',
      'ExecutionRedriven',
      'TaskScheduled',
      'TaskStarted',
      'TaskSucceeded',
      'TaskStateExited',
      'SucceedStateEntered',
      'SucceedStateExited',
      'ExecutionSucceeded',
    ]);
    const redriven = events.find((e) => e.type === 'ExecutionRedriven');
    expect(redriven?.executionRedrivenEventDetails).toEqual({ redriveCount: 1 });
    const entered = events.find((e) => e.type === 'TaskStateEntered');
    const rescheduled = events.filter((e) => e.type === 'TaskScheduled')[1];
    expect(rescheduled?.previousEventId).toBe(entered?.id);
    expect(events.map((e) => e.id)).toEqual(events.map((_, i) => i + 1));
  });

  it('answers a repeated client token with the first redrive, without redriving again', async () => {
    const h = harness();
    const executionArn = await h.startAndSettle();

    const first = await h.call('RedriveExecution', { executionArn, clientToken: 'retry-1' });
    await h.service.drain();
    h.advance(60_000);
    const again = await h.call('RedriveExecution', { executionArn, clientToken: 'retry-1' });

    expect(again.redriveDate).toBe(first.redriveDate);
    expect(await h.call('DescribeExecution', { executionArn })).toEqual(
      expect.objectContaining({ status: 'FAILED', redriveCount: 1 }),
    );
    expect(h.calls).toHaveLength(2);
  });

  it('refuses a succeeded or running execution with ExecutionNotRedrivable', async () => {
    const h = harness();
    h.letSucceed();
    const executionArn = await h.startAndSettle();

    const error = await failure(h.call('RedriveExecution', { executionArn }));

    expect(error.type).toBe('ExecutionNotRedrivable');
    expect(error.message).toContain('Execution is SUCCEEDED and cannot be redriven');
  });

  it('refuses an execution that ended more than 14 days ago', async () => {
    const h = harness();
    const executionArn = await h.startAndSettle();
    h.advance(14 * DAY_MS + 1);

    const error = await failure(h.call('RedriveExecution', { executionArn }));

    expect(error.type).toBe('ExecutionNotRedrivable');
    expect(await h.call('DescribeExecution', { executionArn })).toEqual(
      expect.objectContaining({
        redriveStatus: 'NOT_REDRIVABLE',
        redriveStatusReason: 'Execution redrivable period exceeded',
      }),
    );
  });

  it.each([
    [{}, 'ValidationException'],
    [{ executionArn: 'not-an-arn' }, 'InvalidArn'],
    [
      { executionArn: 'arn:aws:states:us-east-1:000000000000:execution:redrive-test:nope' },
      'ExecutionDoesNotExist',
    ],
  ])('fails %j with %s', async (input, name) => {
    const h = harness();
    expect((await failure(h.call('RedriveExecution', input))).type).toBe(name);
  });

  it('fails a client token that is not 1-64 printable characters with ValidationException', async () => {
    const h = harness();
    const executionArn = await h.startAndSettle();

    const error = await failure(
      h.call('RedriveExecution', { executionArn, clientToken: 'has spaces' }),
    );

    expect(error.type).toBe('ValidationException');
  });

  it('lists redriven executions apart with redriveFilter', async () => {
    const h = harness();
    const redriven = await h.startAndSettle();
    const notRedriven = await h.startAndSettle();
    await h.call('RedriveExecution', { executionArn: redriven });
    await h.service.drain();
    const stateMachineArn = 'arn:aws:states:us-east-1:000000000000:stateMachine:redrive-test';

    const list = async (redriveFilter: string) =>
      (
        (await h.call('ListExecutions', { stateMachineArn, redriveFilter })).executions as {
          executionArn: string;
          redriveCount: number;
        }[]
      ).map((e) => [e.executionArn, e.redriveCount]);

    expect(await list('REDRIVEN')).toEqual([[redriven, 1]]);
    expect(await list('NOT_REDRIVEN')).toEqual([[notRedriven, 0]]);
  });
});
