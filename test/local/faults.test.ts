import { afterEach, describe, expect, it, vi } from 'vitest';
import { FaultPlan, lambdaTarget } from '../../local/faults.ts';

/** The local stack's fault plan on its own, with time moved by the test (fake timers). */

const STILL_WAITING = 'still waiting';
/** What `promise` has settled with by now, without waiting for it. */
const settled = (promise: Promise<unknown>) =>
  Promise.race([promise, new Promise((resolve) => setImmediate(() => resolve(STILL_WAITING)))]);

describe('FaultPlan', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('fails the next `count` calls of a target with the armed error, and counts them', async () => {
    // Prepare
    const plan = new FaultPlan();
    plan.arm('RedshiftData.ExecuteStatement', { error: 'ThrottlingException', count: 2 });

    // Act
    const faults = [
      await plan.enter('RedshiftData.ExecuteStatement'),
      await plan.enter('DynamoDB_20120810.Query'),
      await plan.enter('RedshiftData.ExecuteStatement'),
      await plan.enter('RedshiftData.ExecuteStatement'),
    ];

    // Assess
    expect(faults.map((fault) => fault?.error)).toEqual([
      'ThrottlingException',
      undefined,
      'ThrottlingException',
      undefined,
    ]);
    expect(faults[0]).toEqual({
      error: 'ThrottlingException',
      message: 'Injected ThrottlingException',
      statusCode: 400,
      afterInvoke: false,
    });
    expect(plan.counts()).toEqual({
      calls: { 'RedshiftData.ExecuteStatement': 3, 'DynamoDB_20120810.Query': 1 },
      lambdaInvocations: {},
      faultsInjected: { 'RedshiftData.ExecuteStatement:ThrottlingException': 2 },
      held: {},
    });
  });

  it('knows Lambda targets by function, and a fault that loses the response after the run', async () => {
    // Prepare
    const plan = new FaultPlan();
    plan.arm(lambdaTarget('SubmitQuery'), { error: 'Lambda.ServiceException', afterInvoke: true });

    // Act
    const fault = await plan.enter(lambdaTarget('SubmitQuery'));

    // Assess
    expect(fault).toMatchObject({ error: 'Lambda.ServiceException', afterInvoke: true });
    expect(plan.counts()).toMatchObject({
      calls: {},
      lambdaInvocations: { SubmitQuery: 1 },
      faultsInjected: { 'Lambda.SubmitQuery:Lambda.ServiceException': 1 },
    });
  });

  it('answers a server error with its 5xx status unless the fault says otherwise', async () => {
    // Prepare
    const plan = new FaultPlan();
    plan.arm('DynamoDB_20120810.GetItem', { error: 'InternalServerError' });
    plan.arm('DynamoDB_20120810.GetItem', { error: 'InternalServerError', statusCode: 503 });

    // Act
    const first = await plan.enter('DynamoDB_20120810.GetItem');
    const second = await plan.enter('DynamoDB_20120810.GetItem');

    // Assess
    expect([first?.statusCode, second?.statusCode]).toEqual([500, 503]);
  });

  it('delays each call of a target by its latency', async () => {
    // Prepare
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const plan = new FaultPlan();
    plan.setLatency('DynamoDB_20120810.UpdateItem', 700);

    // Act
    const call = plan.enter('DynamoDB_20120810.UpdateItem');
    await vi.advanceTimersByTimeAsync(699);
    const before = await settled(call);
    await vi.advanceTimersByTimeAsync(1);

    // Assess
    expect(before).toBe(STILL_WAITING);
    expect(await call).toBeUndefined();
  });

  it('holds the calls after the first `after` until released, and says how many wait', async () => {
    // Prepare
    const plan = new FaultPlan();
    plan.hold('DynamoDB_20120810.Query', { after: 1, count: 2 });

    // Act
    const first = plan.enter('DynamoDB_20120810.Query');
    const second = plan.enter('DynamoDB_20120810.Query');
    const third = plan.enter('DynamoDB_20120810.Query');
    const fourth = plan.enter('DynamoDB_20120810.Query');
    const states = await Promise.all([first, second, third, fourth].map(settled));
    const held = plan.counts().held;
    const released = plan.release('DynamoDB_20120810.Query');

    // Assess
    expect(states).toEqual([undefined, STILL_WAITING, STILL_WAITING, undefined]);
    expect(held).toEqual({ 'DynamoDB_20120810.Query': 2 });
    expect(released).toBe(2);
    expect(await Promise.all([second, third])).toEqual([undefined, undefined]);
    expect(plan.counts().held).toEqual({});
  });

  it('holds a response after its call was carried out, apart from the holds of requests', async () => {
    // Prepare
    const plan = new FaultPlan();
    plan.hold('DynamoDB_20120810.UpdateItem', { phase: 'response' });

    // Act
    const request = await settled(plan.enter('DynamoDB_20120810.UpdateItem'));
    const answer = plan.leave('DynamoDB_20120810.UpdateItem');
    const waiting = await settled(answer);
    const held = plan.counts().held;
    plan.release('DynamoDB_20120810.UpdateItem', 'response');

    // Assess
    expect(request).toBeUndefined();
    expect(waiting).toBe(STILL_WAITING);
    expect(held).toEqual({ 'DynamoDB_20120810.UpdateItem:response': 1 });
    expect(await answer).toBeUndefined();
  });

  it('forgets counts, faults and latency on reset, and lets held calls go on', async () => {
    // Prepare
    const plan = new FaultPlan();
    plan.arm('RedshiftData.ExecuteStatement', { error: 'ThrottlingException' });
    plan.setLatency('RedshiftData.ExecuteStatement', 60_000);
    plan.hold('DynamoDB_20120810.Query');
    const held = plan.enter('DynamoDB_20120810.Query');
    await settled(held);

    // Act
    plan.reset();

    // Assess
    expect(await held).toBeUndefined();
    expect(await plan.enter('RedshiftData.ExecuteStatement')).toBeUndefined();
    expect(plan.counts()).toEqual({
      calls: { 'RedshiftData.ExecuteStatement': 1 },
      lambdaInvocations: {},
      faultsInjected: {},
      held: {},
    });
  });
});
