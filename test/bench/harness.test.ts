import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import {
  acquireOutcomeOf,
  type Counters,
  counterDelta,
  summarizeHistory,
} from '../../bench/harness.ts';
import { STATES } from '../../statemachine/definition.ts';

/**
 * How the benchmark reads what an execution did: counter deltas, the history's transitions and
 * time per state, and how Acquire Session ended.
 */

describe('Function: counterDelta', () => {
  it('counts DynamoDB and Data API requests and leaves Step Functions calls out', () => {
    // Prepare
    const before: Counters = {
      calls: { 'DynamoDB_20120810.Query': 2, 'AWSStepFunctions.StartExecution': 1 },
      lambdaInvocations: { AcquireSession: 1 },
      redshiftData: { statementsSubmitted: 1, sessionsOpened: 1, busyRejections: 0 },
    };
    const after: Counters = {
      calls: {
        'DynamoDB_20120810.Query': 3,
        'DynamoDB_20120810.UpdateItem': 2,
        'RedshiftData.ExecuteStatement': 1,
        'RedshiftData.GetStatementResult': 1,
        'AWSStepFunctions.StartExecution': 2,
        'AWSStepFunctions.DescribeExecution': 9,
      },
      lambdaInvocations: { AcquireSession: 2, SubmitQuery: 1, ReleaseSession: 1, FetchResults: 1 },
      redshiftData: { statementsSubmitted: 2, sessionsOpened: 1, busyRejections: 3 },
    };
    // Act
    const delta = counterDelta(before, after);
    // Assess
    expect(delta).toEqual({
      lambdaInvocations: 4,
      dynamodbRequests: 3,
      dataApiRequests: 2,
      statementsSubmitted: 1,
      sessionsOpened: 0,
      busyRejections: 3,
      byOperation: {
        'DynamoDB_20120810.Query': 1,
        'DynamoDB_20120810.UpdateItem': 2,
        'RedshiftData.ExecuteStatement': 1,
        'RedshiftData.GetStatementResult': 1,
      },
    });
  });
});

describe('Function: summarizeHistory', () => {
  it('counts every *StateEntered event as a transition and finds when Release Session began', () => {
    // Prepare
    const at = (ms: number) => new Date(ms);
    const entered = (type: string, name: string, ms: number): HistoryEvent => ({
      id: 0,
      type: type as HistoryEvent['type'],
      timestamp: at(ms),
      stateEnteredEventDetails: { name },
    });
    const events: HistoryEvent[] = [
      { id: 1, type: 'ExecutionStarted', timestamp: at(0) },
      entered('TaskStateEntered', STATES.acquire, 1),
      { id: 3, type: 'TaskScheduled', timestamp: at(1) },
      {
        id: 4,
        type: 'TaskFailed',
        timestamp: at(2),
        taskFailedEventDetails: {
          resourceType: 'lambda',
          resource: 'invoke',
          error: 'SessionPoolExhaustedError',
        },
      },
      { id: 5, type: 'TaskScheduled', timestamp: at(3) },
      entered('TaskStateEntered', STATES.submit, 4),
      { id: 7, type: 'TaskScheduled', timestamp: at(4) },
      entered('ChoiceStateEntered', STATES.queryFinished, 5),
      entered('TaskStateEntered', STATES.release, 6),
      { id: 10, type: 'TaskScheduled', timestamp: at(6) },
      entered('SucceedStateEntered', STATES.succeeded, 7),
    ];
    // Act
    const summary = summarizeHistory(events);
    // Assess
    expect(summary).toEqual({
      transitions: 5,
      states: [
        STATES.acquire,
        STATES.submit,
        STATES.queryFinished,
        STATES.release,
        STATES.succeeded,
      ],
      taskRetries: 1,
      taskErrors: { SessionPoolExhaustedError: 1 },
      releaseEnteredMs: 6,
      historyEvents: events.length,
      // The first attempt ran from 1 to 2 ms and failed; the others have not ended here.
      invocations: [{ functionArn: '', ms: 1 }],
      stateMs: {},
    });
  });

  it('sums the time in each state and says how Acquire Session left the session', () => {
    // Prepare
    const at = (ms: number) => new Date(ms);
    const entered = (name: string, ms: number): HistoryEvent => ({
      id: 0,
      type: 'TaskStateEntered',
      timestamp: at(ms),
      stateEnteredEventDetails: { name },
    });
    const exited = (name: string, ms: number, output = '{}'): HistoryEvent => ({
      id: 0,
      type: 'TaskStateExited',
      timestamp: at(ms),
      stateExitedEventDetails: { name, output },
    });
    const raced = JSON.stringify({
      session: {
        sessionId: null,
        reused: false,
        reservation: { claim: 'c' },
        sessionsLeased: true,
      },
    });
    const events: HistoryEvent[] = [
      entered(STATES.acquire, 100),
      exited(STATES.acquire, 130, raced),
      entered(STATES.submit, 135),
      exited(STATES.submit, 500),
      entered(STATES.poll, 510),
      exited(STATES.poll, 520),
      entered(STATES.poll, 530),
      exited(STATES.poll, 545),
    ];
    // Act
    const summary = summarizeHistory(events);
    // Assess
    expect(summary.stateMs).toEqual({
      [STATES.acquire]: 30,
      [STATES.submit]: 365,
      [STATES.poll]: 25,
    });
    expect(summary.acquired).toBe('race');
  });
});

describe('Function: acquireOutcomeOf', () => {
  it.each([
    [{ session: { sessionId: 's-1', reused: true } }, 'leased'],
    [{ session: { sessionId: null, reused: false, reservation: { claim: 'c' } } }, 'open'],
    [
      {
        session: {
          sessionId: null,
          reused: false,
          reservation: { claim: 'c' },
          sessionsLeased: true,
        },
      },
      'race',
    ],
    [{ session: { sessionId: null, reused: false } }, 'sessionless'],
  ])('reads %j as %s', (output, expected) => {
    expect(acquireOutcomeOf(JSON.stringify(output))).toBe(expected);
  });
});
