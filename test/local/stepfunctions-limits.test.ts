import { describe, expect, it } from 'vitest';
import type { LambdaHandler } from '../../functions/common/handler.ts';
import type { WorkflowFunctionName } from '../../functions/registry.ts';
import { SimulatedClock } from '../../local/clock.ts';
import { localFunctionArn } from '../../local/identity.ts';
import { LocalStepFunctions } from '../../local/stepfunctions/service.ts';

/**
 * Step Functions' limits in the local service, on small definitions whose Task calls a handler the
 * test scripts: a payload over 256 KiB, a cause over 32,768 characters and the 25,000th history
 * event end the execution with AWS's error names, which no Catch sees; a Wait runs on the stack's
 * clock.
 */

const KIB = 1024;

interface Described {
  status: string;
  error?: string;
  cause?: string;
  output?: string;
  startDate: number;
  stopDate?: number;
}

interface Event {
  id: number;
  type: string;
  timestamp: number;
  [details: string]: unknown;
}

/** A Task state invoking the scripted handler, caught by a blanket Catch that goes to `Caught`. */
const task = (fields: Record<string, unknown> = {}) => ({
  Type: 'Task',
  Resource: 'arn:aws:states:::lambda:invoke',
  Parameters: { FunctionName: localFunctionArn('FetchResults'), 'Payload.$': '$' },
  OutputPath: '$.Payload',
  Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.caught', Next: 'Caught' }],
  ...fields,
});

const CAUGHT = { Caught: { Type: 'Pass', Result: 'caught', End: true } };

function harness(definition: object, work: LambdaHandler, clock?: SimulatedClock) {
  let invocations = 0;
  const handlers = {
    FetchResults: (event: unknown, context: Parameters<LambdaHandler>[1]) => {
      invocations++;
      return work(event, context);
    },
  } as unknown as Record<WorkflowFunctionName, LambdaHandler>;
  const service = new LocalStepFunctions({ handlers, clock });
  const stateMachineArn = service.register('limits-test', JSON.stringify(definition));
  const call = (operation: string, input: Record<string, unknown>) =>
    service.handle(operation, input) as Promise<Record<string, unknown>>;
  return {
    invocations: () => invocations,
    async run(input: unknown = {}) {
      const { executionArn } = await call('StartExecution', {
        stateMachineArn,
        input: JSON.stringify(input),
      });
      await service.drain();
      const described = (await call('DescribeExecution', { executionArn })) as unknown as Described;
      const events: Event[] = [];
      let nextToken: unknown;
      do {
        const page = await call('GetExecutionHistory', { executionArn, nextToken });
        events.push(...(page.events as Event[]));
        nextToken = page.nextToken;
      } while (nextToken);
      return { described, events };
    },
  };
}

describe('Local Step Functions: the payload limits', () => {
  it('ends an execution whose task returns more than 256 KiB with States.DataLimitExceeded, which its Catch does not see', async () => {
    // Prepare
    const h = harness(
      { StartAt: 'Work', States: { Work: task({ End: true }), ...CAUGHT } },
      async () => ({
        rows: 'x'.repeat(300 * KIB),
      }),
    );

    // Act
    const { described, events } = await h.run();

    // Assess
    expect(described).toMatchObject({
      status: 'FAILED',
      error: 'States.DataLimitExceeded',
      cause:
        "The state/task 'Work' returned a result with a size exceeding the maximum number of bytes service limit.",
    });
    expect(events.map((e) => e.type)).not.toContain('PassStateEntered');
    expect(events.at(-1)).toMatchObject({
      type: 'ExecutionFailed',
      executionFailedEventDetails: { error: 'States.DataLimitExceeded' },
    });
  });

  it("ends it when a state's output passes 256 KiB as its result joins its input", async () => {
    // Prepare: 150 KiB in, 150 KiB more from the task, kept beside the input by ResultPath
    const definition = {
      StartAt: 'Work',
      States: {
        Work: task({ OutputPath: undefined, ResultPath: '$.result', End: true }),
        ...CAUGHT,
      },
    };
    const h = harness(definition, async () => 'y'.repeat(150 * KIB));

    // Act
    const { described } = await h.run({ carried: 'x'.repeat(150 * KIB) });

    // Assess
    expect(described).toMatchObject({ status: 'FAILED', error: 'States.DataLimitExceeded' });
    expect(described.cause).toContain("'Work'");
  });

  it('ends it before the function runs when the input after Parameters passes 256 KiB', async () => {
    // Prepare: Parameters hand the function its 150 KiB input twice
    const twice = task({
      Parameters: {
        FunctionName: localFunctionArn('FetchResults'),
        Payload: { 'first.$': '$', 'again.$': '$' },
      },
      End: true,
    });
    const h = harness({ StartAt: 'Work', States: { Work: twice, ...CAUGHT } }, async () => 'ran');

    // Act
    const { described } = await h.run({ sql: 'x'.repeat(150 * KIB) });

    // Assess
    expect(described).toMatchObject({
      status: 'FAILED',
      error: 'States.DataLimitExceeded',
      cause:
        "The state/task 'Work' has an input with a size exceeding the maximum number of bytes service limit.",
    });
    expect(h.invocations()).toBe(0);
  });

  it('ends it when a failure reports a cause of more than 32,768 characters', async () => {
    const h = harness(
      { StartAt: 'Work', States: { Work: task({ End: true }), ...CAUGHT } },
      async () => {
        throw new Error(`boom: ${'z'.repeat(40 * KIB)}`);
      },
    );

    const { described } = await h.run();

    expect(described).toMatchObject({ status: 'FAILED', error: 'States.DataLimitExceeded' });
    expect(described.cause).toMatch(/a cause of \d+ characters, more than the 32768 allowed/);
  });

  it('lets everything within the limits through, the Catch included', async () => {
    const h = harness(
      { StartAt: 'Work', States: { Work: task({ End: true }), ...CAUGHT } },
      async () => {
        throw new Error('a small failure');
      },
    );

    const { described } = await h.run({ carried: 'x'.repeat(200 * KIB) });

    expect(described).toMatchObject({ status: 'SUCCEEDED', output: '"caught"' });
  });
});

describe('Local Step Functions: the history limit', () => {
  it('ends an execution at its 25,000th event with States.Runtime, that event being the failure', async () => {
    // Prepare: a poll loop that never ends, 7 events a round
    const definition = {
      StartAt: 'Poll',
      States: {
        Poll: task({ Next: 'Done?' }),
        'Done?': {
          Type: 'Choice',
          Choices: [{ Variable: '$.done', BooleanEquals: true, Next: 'Finished' }],
          Default: 'Poll',
        },
        Finished: { Type: 'Succeed' },
        ...CAUGHT,
      },
    };
    const h = harness(definition, async () => ({ done: false }));

    // Act
    const { described, events } = await h.run();

    // Assess
    expect(described).toMatchObject({
      status: 'FAILED',
      error: 'States.Runtime',
      cause: 'The execution reached the maximum number of history events (25000).',
    });
    expect(events).toHaveLength(25_000);
    expect(events.at(-1)).toMatchObject({ id: 25_000, type: 'ExecutionFailed' });
    expect(events.at(-2)?.type).not.toBe('ExecutionFailed');
    // Each round scheduled its Lambda in the history: no invocation ran beyond the cut.
    const scheduled = events.filter((e) => e.type === 'TaskScheduled').length;
    expect(h.invocations()).toBe(scheduled);
  });
});

describe('Local Step Functions: Wait states on the stack clock', () => {
  it('waits a simulated day at once, and the history says a day passed', async () => {
    // Prepare
    const clock = new SimulatedClock(Date.parse('2026-12-01T00:00:00Z'));
    const definition = {
      StartAt: 'Wait A Day',
      States: {
        'Wait A Day': { Type: 'Wait', SecondsPath: '$.seconds', Next: 'Work' },
        Work: task({ End: true }),
        ...CAUGHT,
      },
    };
    const h = harness(definition, async () => ({ at: clock.now() }), clock);

    // Act
    const { described, events } = await h.run({ seconds: 86_400 });

    // Assess
    expect(described.status).toBe('SUCCEEDED');
    expect(JSON.parse(described.output ?? '{}').at).toBe(Date.parse('2026-12-02T00:00:00Z'));
    const entered = events.find((e) => e.type === 'WaitStateEntered');
    const exited = events.find((e) => e.type === 'WaitStateExited');
    expect((exited?.timestamp ?? 0) - (entered?.timestamp ?? 0)).toBe(86_400);
    // The Wait is reported as the Wait it is: the one Task is Work.
    expect(events.filter((e) => e.type === 'TaskStateEntered')).toHaveLength(1);
    expect(described.stopDate).toBe(Date.parse('2026-12-02T00:00:00Z') / 1000);
  });
});
