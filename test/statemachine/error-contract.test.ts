import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_NAMES, RECOVERED_ERROR_NAMES } from '../../functions/common/errors.ts';
import type { StatementState } from '../../functions/common/workflow-state.ts';
import { handlersFor } from '../../functions/registry.ts';
import type { ReleaseOutcome } from '../../functions/release-session.ts';
import { DATA_LIMIT_EXCEEDED, HISTORY_LIMIT_ERROR } from '../../local/stepfunctions/limits.ts';
import {
  LAMBDA_RUNTIME_ERRORS,
  LAMBDA_SERVICE_ERRORS,
  QUERY_DEFINITION_FILE,
  STATES,
} from '../../statemachine/definition.ts';
import { lambdaContext } from '../support/lambda-context.ts';
import { runningState } from '../support/query-state.ts';
import { EXECUTION_ARN, unitDeps } from '../support/unit-deps.ts';

/**
 * The error contract is closed: the names an execution can end with, enumerated from the
 * definition (what each Task's Catch leaves uncaught, and what it sends to the failure path) and
 * from the failure path itself (the names it gives the ways a statement ends), are exactly those
 * the README's table lists.
 */

interface State {
  Type: string;
  Catch?: { ErrorEquals: string[]; Next: string }[];
}

const definition = JSON.parse(readFileSync(QUERY_DEFINITION_FILE, 'utf8')) as {
  States: Record<string, State>;
};
const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** The names in the first column of the README's first table after `marker`. */
function tableNames(marker: string): string[] {
  expect(readme).toContain(marker);
  const section = readme.slice(readme.indexOf(marker));
  const table = section.slice(section.indexOf('\n|')).split('\n\n')[0] ?? '';
  return table
    .split('\n')
    .slice(3)
    .flatMap((row) => [...(row.split('|')[1] ?? '').matchAll(/`([^`]+)`/g)].map((m) => m[1] ?? ''));
}

/** The error a failure path run gives, through the real ReleaseSession's handler. */
async function failureName(state: Record<string, unknown>): Promise<string> {
  const { ReleaseSession } = await handlersFor(unitDeps().deps);
  const outcome = (await ReleaseSession(
    { outcome: 'FAILED', executionArn: EXECUTION_ARN, state },
    lambdaContext,
  )) as ReleaseOutcome;
  return outcome.failure?.error ?? '(none)';
}

/** The ways a statement can end that reach the failure path, as the state says them. */
const STATEMENT_ENDS: Partial<StatementState>[] = [
  { status: 'FAILED', error: 'ERROR: relation "nope" does not exist' },
  { status: 'FAILED', error: 'ERROR: Database response exceeded size limit' },
  { status: 'FAILED', error: 'ERROR: canceling statement due to statement timeout' },
  { status: 'ABORTED' },
  { status: 'ABORTED', cancelledFor: 'timeout' },
  { status: 'STARTED', cancelledFor: 'timeout' },
  { status: 'ABORTED', cancelledFor: 'history' },
];

// The handlers run on the mocked clients (test/support/mocked-clients.ts), reset before each test:
// the session and its slots are given back or dropped as the failure path does.
describe('The error contract', () => {
  it("lists exactly the names an execution can end with in the README's table", async () => {
    // Prepare: what each Task's function may throw. Every function may throw any of Spectra's
    // names but the recovered one, which only Submit Query and Poll Status throw; the Lambda
    // service and runtime may fail any invocation.
    const ending = new Set<string>();
    const caughtForFailurePath = new Set<string>();
    for (const [name, state] of Object.entries(definition.States)) {
      if (state.Type !== 'Task') continue;
      const throwable = [
        ...ERROR_NAMES.filter(
          (error) =>
            !(RECOVERED_ERROR_NAMES as readonly string[]).includes(error) ||
            name === STATES.submit ||
            name === STATES.poll,
        ),
        ...LAMBDA_SERVICE_ERRORS,
        ...LAMBDA_RUNTIME_ERRORS,
      ];
      for (const error of throwable) {
        const catcher = state.Catch?.find(
          (rule) => rule.ErrorEquals.includes(error) || rule.ErrorEquals.includes('States.ALL'),
        );
        if (catcher === undefined) ending.add(error);
        else if (catcher.Next === STATES.releaseAfterFailure) caughtForFailurePath.add(error);
      }
    }

    // Act: the names the failure path gives what it catches, and a statement's own ends
    for (const caught of caughtForFailurePath)
      ending.add(await failureName({ Error: caught, Cause: '{"errorMessage":"boom"}' }));
    for (const statement of STATEMENT_ENDS) ending.add(await failureName(runningState(statement)));

    // Assess
    expect(ending).not.toContain('(none)');
    expect([...ending].sort()).toEqual(tableNames('### Failures').sort());
  });

  it("names, beside it, the ends of Step Functions' own that Spectra keeps out, as the local stack enforces them", () => {
    const named = tableNames("Step Functions' own ends are kept out by construction");
    expect(named).toEqual(
      expect.arrayContaining([DATA_LIMIT_EXCEEDED, HISTORY_LIMIT_ERROR, 'States.Timeout']),
    );
  });

  it('never lets a recovered error end an execution: every Task that throws it catches it', () => {
    for (const step of [STATES.submit, STATES.poll]) {
      const caught = definition.States[step]?.Catch?.flatMap((rule) => rule.ErrorEquals) ?? [];
      for (const recovered of RECOVERED_ERROR_NAMES) expect(caught, step).toContain(recovered);
    }
  });
});
