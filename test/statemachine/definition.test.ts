import { readFileSync } from 'node:fs';
import validator from 'asl-validator';
import { describe, expect, it } from 'vitest';
import {
  AT_STEP_ERROR_NAMES,
  ERROR_NAMES,
  TERMINAL_ERROR_NAMES,
  TRANSIENT_ERROR_NAMES,
} from '../../functions/common/errors.ts';
import { HISTORY_EVENTS_AT_MOST, taskEventsAtMost } from '../../functions/common/polling.ts';
import { WORKFLOW_FUNCTIONS } from '../../functions/registry.ts';
import {
  LAMBDA_SERVICE_ERRORS,
  placeholderOf,
  QUERY_DEFINITION_FILE,
  STATES,
  TASK_STATES,
} from '../../statemachine/definition.ts';

const text = readFileSync(QUERY_DEFINITION_FILE, 'utf8');

interface State {
  Type: string;
  Comment?: string;
  Retry?: { ErrorEquals: string[]; MaxAttempts?: number }[];
  Catch?: { ErrorEquals: string[]; Next: string }[];
  Parameters?: { FunctionName?: string };
  Error?: string;
}
const definition = JSON.parse(text) as { States: Record<string, State>; QueryLanguage?: string };
const states = Object.entries(definition.States);

describe('Definition: statemachine/query.asl.json', () => {
  it('has the states STATES names, no other, and TASK_STATES are its Task states', () => {
    expect(Object.keys(definition.States).sort()).toEqual(Object.values(STATES).sort());
    const tasks = states.filter(([, state]) => state.Type === 'Task').map(([name]) => name);
    expect(tasks.sort()).toEqual([...TASK_STATES].sort());
  });

  it('is a valid Amazon States Language definition', () => {
    // asl-validator adds fields to what it checks, so it gets a copy.
    const { isValid, errorsText } = validator(structuredClone(definition), {
      checkPaths: true,
      checkArn: true,
    });
    expect(errorsText?.('\n') ?? '').toBe('');
    expect(isValid).toBe(true);
  });

  it('matches only error names that the errors module exports, or AWS-defined ones', () => {
    const custom = states
      .flatMap(([, state]) => [...(state.Retry ?? []), ...(state.Catch ?? [])])
      .flatMap((rule) => rule.ErrorEquals)
      .filter((name) => !name.startsWith('States.') && !name.startsWith('Lambda.'));
    expect(custom.length).toBeGreaterThan(0);
    for (const name of custom) expect(ERROR_NAMES).toContain(name);
  });

  it('never retries everything: no States.ALL or States.TaskFailed in a Retry', () => {
    const retried = states
      .flatMap(([, state]) => state.Retry ?? [])
      .flatMap((rule) => rule.ErrorEquals);
    expect(retried).not.toContain('States.ALL');
    expect(retried).not.toContain('States.TaskFailed');
  });

  it('gives every Task a Retry for the Lambda service errors', () => {
    const tasks = states.filter(([, state]) => state.Type === 'Task');
    expect(tasks.length).toBeGreaterThanOrEqual(6);
    for (const [name, state] of tasks) {
      const retried = (state.Retry ?? []).flatMap((rule) => rule.ErrorEquals);
      expect(retried, name).toEqual(
        expect.arrayContaining(['Lambda.ServiceException', 'Lambda.TooManyRequestsException']),
      );
      expect(retried, name).toContain('TransientServiceError');
    }
  });

  it('uses only placeholders that the function registry substitutes, and every function', () => {
    const used = new Set([...text.matchAll(/\$\{([A-Za-z0-9]+)\}/g)].map((m) => m[1]));
    const substituted = new Set(WORKFLOW_FUNCTIONS.map((fn) => placeholderOf(fn.name)));
    expect(used).toEqual(substituted);
  });

  it('stays in JSONPath: no JSONata and no variables, which the local engine cannot run', () => {
    expect(definition.QueryLanguage ?? 'JSONPath').toBe('JSONPath');
    expect(text).not.toContain('"Assign"');
    expect(text).not.toContain('{%');
  });

  it('has a Comment on every state', () => {
    for (const [name, state] of states) expect(state.Comment, name).toBeTruthy();
  });

  it('sends the errors that say the query cannot succeed through the state that releases the session', () => {
    const steps = [STATES.acquire, STATES.submit, STATES.invalidate, STATES.poll, STATES.fetch];
    for (const name of steps) {
      const toFailurePath = (definition.States[name]?.Catch ?? []).filter(
        (rule) => rule.Next === STATES.releaseAfterFailure,
      );
      expect(toFailurePath, name).toHaveLength(1);
      expect(toFailurePath[0]?.ErrorEquals.sort(), name).toEqual(
        [...TERMINAL_ERROR_NAMES, ...LAMBDA_SERVICE_ERRORS].sort(),
      );
    }
    // A stale session (refused, or inside a failed transaction) is answered at Submit Query or
    // at Poll Status; both go to Invalidate Session, whose own failures release the session.
    for (const step of [STATES.submit, STATES.poll]) {
      const caughtStale = definition.States[step]?.Catch?.find((rule) =>
        rule.ErrorEquals.includes('StaleSessionError'),
      );
      expect(caughtStale?.Next, step).toBe(STATES.invalidate);
    }
  });

  it('lets a transient error that outlasts its retries fail its own step, so that a redrive runs the step again', () => {
    // Release Session is left out: a failure to give the session back does not fail the query,
    // which goes on to Fetch Results (the lease runs out on its own).
    for (const [name, state] of states.filter(([n]) => n !== STATES.release)) {
      const caught = (state.Catch ?? []).flatMap((rule) => rule.ErrorEquals);
      // A wildcard would catch the transient errors too: the redrive would run the Fail state.
      expect(caught, name).not.toContain('States.ALL');
      expect(caught, name).not.toContain('States.TaskFailed');
      for (const transient of TRANSIENT_ERROR_NAMES) expect(caught, name).not.toContain(transient);
    }
  });

  it('lets an unexpected error fail its own step at once: neither retried nor caught', () => {
    for (const [name, state] of states) {
      const named = [...(state.Retry ?? []), ...(state.Catch ?? [])].flatMap((r) => r.ErrorEquals);
      for (const atStep of AT_STEP_ERROR_NAMES) expect(named, name).not.toContain(atStep);
    }
  });

  it("bounds each Task's history events, retries included, by what the history guard counts for it", () => {
    for (const [name, state] of states.filter(([, s]) => s.Type === 'Task')) {
      // Each retrier counts its attempts on its own: at worst every one of them is used up.
      const retries = (state.Retry ?? []).reduce((sum, rule) => sum + (rule.MaxAttempts ?? 3), 0);
      const counted =
        name === STATES.acquire ? HISTORY_EVENTS_AT_MOST.acquire : HISTORY_EVENTS_AT_MOST.task;
      expect(taskEventsAtMost(retries), name).toBeLessThanOrEqual(counted);
    }
  });
});
