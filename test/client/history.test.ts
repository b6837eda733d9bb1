import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { buildTimeline, currentStateOf } from '../../client/history.ts';
import { STATES } from '../../statemachine/definition.ts';

/**
 * Histories shaped as Step Functions records them: `…StateEntered`, the Task's TaskScheduled /
 * TaskStarted / TaskSucceeded or TaskFailed per attempt, `…StateExited` only when a state ends
 * normally, and the execution's end.
 */

const START = Date.parse('2026-11-28T12:00:00.000Z');
const at = (ms: number) => new Date(START + ms);

/** Builds events from `[type, ms, name?, error?]`, numbering them as AWS does. */
function history(...rows: [string, number, string?, string?][]): HistoryEvent[] {
  return rows.map(([type, ms, name, error], index) => {
    const event: HistoryEvent = {
      id: index + 1,
      previousEventId: index,
      type: type as HistoryEvent['type'],
      timestamp: at(ms),
    };
    if (type.endsWith('StateEntered')) event.stateEnteredEventDetails = { name };
    if (type === 'TaskFailed')
      event.taskFailedEventDetails = {
        resourceType: 'lambda',
        resource: 'invoke',
        error,
        cause: '{}',
      };
    if (type === 'ExecutionFailed') event.executionFailedEventDetails = { error, cause: '{}' };
    return event;
  });
}

const task = (name: string, from: number, to: number, failWith?: string) =>
  failWith === undefined
    ? ([
        ['TaskStateEntered', from, name],
        ['TaskScheduled', from],
        ['TaskStarted', from],
        ['TaskSucceeded', to],
        ['TaskStateExited', to, name],
      ] as [string, number, string?, string?][])
    : ([
        ['TaskStateEntered', from, name],
        ['TaskScheduled', from],
        ['TaskStarted', from],
        ['TaskFailed', to, undefined, failWith],
      ] as [string, number, string?, string?][]);

describe('Function: buildTimeline', () => {
  it('lists each state of a succeeded execution with its duration', () => {
    // Prepare
    const events = history(
      ['ExecutionStarted', 0],
      ...task(STATES.acquire, 0, 20),
      ...task(STATES.submit, 20, 120),
      ['ChoiceStateEntered', 120, STATES.queryFinished],
      ['ChoiceStateExited', 120, STATES.queryFinished],
      ['SucceedStateEntered', 130, STATES.succeeded],
      ['SucceedStateExited', 130, STATES.succeeded],
      ['ExecutionSucceeded', 130],
    );

    // Act
    const timeline = buildTimeline(events);

    // Assess
    expect(timeline).toEqual([
      {
        state: STATES.acquire,
        type: 'Task',
        enteredAt: at(0),
        exitedAt: at(20),
        durationMs: 20,
        outcome: 'succeeded',
        attempts: 1,
      },
      {
        state: STATES.submit,
        type: 'Task',
        enteredAt: at(20),
        exitedAt: at(120),
        durationMs: 100,
        outcome: 'succeeded',
        attempts: 1,
      },
      {
        state: STATES.queryFinished,
        type: 'Choice',
        enteredAt: at(120),
        exitedAt: at(120),
        durationMs: 0,
        outcome: 'succeeded',
      },
      {
        state: STATES.succeeded,
        type: 'Succeed',
        enteredAt: at(130),
        exitedAt: at(130),
        durationMs: 0,
        outcome: 'succeeded',
      },
    ]);
  });

  it('marks a state whose error a Catch handled as caught, ending at the failure', () => {
    // Prepare: no TaskStateExited after a caught error, as on AWS
    const events = history(
      ['ExecutionStarted', 0],
      ...task(STATES.submit, 0, 15, 'StaleSessionError'),
      ...task(STATES.invalidate, 16, 30),
      ...task(STATES.submit, 30, 60),
    );

    // Act
    const [submit, invalidate, resubmit] = buildTimeline(events);

    // Assess
    expect(submit).toEqual(
      expect.objectContaining({
        outcome: 'caught',
        error: 'StaleSessionError',
        exitedAt: at(15),
        durationMs: 15,
      }),
    );
    expect(invalidate?.outcome).toBe('succeeded');
    expect(resubmit?.outcome).toBe('succeeded');
  });

  it('marks a Task that succeeded after a retried failure as retried, with its attempts', () => {
    // Prepare
    const events = history(
      ['TaskStateEntered', 0, STATES.poll],
      ['TaskScheduled', 0],
      ['TaskStarted', 0],
      ['TaskFailed', 10, undefined, 'TransientServiceError'],
      ['TaskScheduled', 1010],
      ['TaskStarted', 1010],
      ['TaskSucceeded', 1030],
      ['TaskStateExited', 1030, STATES.poll],
    );

    // Act
    const [poll] = buildTimeline(events);

    // Assess
    expect(poll).toEqual(
      expect.objectContaining({
        outcome: 'retried',
        attempts: 2,
        error: 'TransientServiceError',
        durationMs: 1030,
      }),
    );
  });

  it('goes on with the state a redriven execution had failed in, counting every attempt', () => {
    // Prepare: Fetch Results failed through its retries; the redrive ran it again
    const events = history(
      ['TaskStateEntered', 0, 'Fetch Results'],
      ['TaskScheduled', 0],
      ['TaskStarted', 0],
      ['TaskFailed', 10, undefined, 'TransientServiceError'],
      ['ExecutionFailed', 11, undefined, 'TransientServiceError'],
      ['ExecutionRedriven', 5000],
      ['TaskScheduled', 5000],
      ['TaskStarted', 5000],
      ['TaskSucceeded', 5030],
      ['TaskStateExited', 5030, 'Fetch Results'],
      ['SucceedStateEntered', 5030, 'Query Succeeded'],
      ['SucceedStateExited', 5030, 'Query Succeeded'],
      ['ExecutionSucceeded', 5031],
    );

    // Act
    const [fetch, succeeded] = buildTimeline(events);

    // Assess
    expect(fetch).toEqual(
      expect.objectContaining({ outcome: 'retried', attempts: 2, exitedAt: at(5030) }),
    );
    expect(succeeded?.outcome).toBe('succeeded');
  });

  it('marks the Fail state of a failed execution as failed, with the execution error', () => {
    // Prepare
    const events = history(
      ...task(STATES.releaseAfterFailure, 0, 5),
      ['FailStateEntered', 5, STATES.failed],
      ['ExecutionFailed', 6, undefined, 'QueryFailedError'],
    );

    // Act
    const timeline = buildTimeline(events);

    // Assess
    expect(timeline.at(-1)).toEqual({
      state: STATES.failed,
      type: 'Fail',
      enteredAt: at(5),
      exitedAt: at(6),
      durationMs: 1,
      outcome: 'failed',
      error: 'QueryFailedError',
    });
  });

  it('marks a Task whose error nothing caught as failed', () => {
    // Prepare
    const events = history(...task(STATES.fetch, 0, 40, 'States.Runtime'), [
      'ExecutionFailed',
      41,
      undefined,
      'States.Runtime',
    ]);

    // Act
    const [fetch] = buildTimeline(events);

    // Assess
    expect(fetch).toEqual(
      expect.objectContaining({ outcome: 'failed', error: 'States.Runtime', durationMs: 40 }),
    );
  });

  it.each([
    ['ExecutionAborted', 'aborted'],
    ['ExecutionTimedOut', 'aborted'],
  ])('marks the state in progress when the execution ended with %s as %s', (end, outcome) => {
    // Prepare
    const events = history(
      ['TaskStateEntered', 0, STATES.poll],
      ['TaskScheduled', 0],
      ['TaskStarted', 0],
      [end, 700],
    );

    // Act
    const [poll] = buildTimeline(events);

    // Assess
    expect(poll).toEqual(expect.objectContaining({ outcome, exitedAt: at(700), durationMs: 700 }));
  });

  it('marks the state the execution is in as running, without an exit', () => {
    // Prepare
    const events = history(...task(STATES.submit, 0, 50), [
      'WaitStateEntered',
      50,
      STATES.waitForQuery,
    ]);

    // Act
    const timeline = buildTimeline(events);

    // Assess
    expect(timeline.at(-1)).toEqual({
      state: STATES.waitForQuery,
      type: 'Wait',
      enteredAt: at(50),
      outcome: 'running',
    });
  });
});

describe('Function: currentStateOf', () => {
  it('finds the last state entered in events newest first', () => {
    const newestFirst = history(
      ['TaskStarted', 30],
      ['TaskScheduled', 30],
      ['TaskStateEntered', 30, STATES.poll],
      ['WaitStateExited', 30, STATES.waitForQuery],
      ['WaitStateEntered', 0, STATES.waitForQuery],
    );

    expect(currentStateOf(newestFirst)).toBe(STATES.poll);
  });
});
