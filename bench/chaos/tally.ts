import type { CountersResponse as Counters } from '../../local/test-controls.ts';
import { FAULT_KINDS, type FaultCount, type FaultInjector, type FaultKind } from './faults.ts';
import type { ExecutionRecord } from './invariants.ts';

/** The run's figures for its report: how the executions ended, what faults met a call, what the stack counted. */

function delta(after: Record<string, number>, before: Record<string, number>, key: string) {
  return (after[key] ?? 0) - (before[key] ?? 0);
}

const FAULT_ERRORS: Partial<Record<FaultKind, string>> = {
  'data-api-throttling': 'ThrottlingException',
  'data-api-internal-error': 'InternalServerException',
  'dynamodb-throughput-exceeded': 'ProvisionedThroughputExceededException',
  'dynamodb-internal-error': 'InternalServerError',
  'submit-response-lost': 'Lambda.ServiceException',
};

/** How many calls met a fault of this kind, from the endpoint's `target:error` counts. */
function injectedOf(kind: FaultKind, after: Counters, before: Counters): number {
  const error = FAULT_ERRORS[kind];
  const prefix =
    kind === 'submit-response-lost'
      ? 'Lambda.'
      : kind.startsWith('dynamodb-')
        ? 'DynamoDB_20120810.'
        : 'RedshiftData.';
  return Object.keys(after.faultsInjected)
    .filter((key) => key.startsWith(prefix) && key.endsWith(`:${error}`))
    .reduce((sum, key) => sum + delta(after.faultsInjected, before.faultsInjected, key), 0);
}

/** The injector's counts, with armed faults counted as injected when a call met them. */
export function faultsOf(
  counts: FaultInjector['counts'],
  afterRun: Counters,
  before: Counters,
): Record<FaultKind, FaultCount> {
  const faults = { ...counts } as Record<FaultKind, FaultCount>;
  for (const kind of FAULT_KINDS) {
    // Armed faults count as injected when a call met them (the endpoint's own count).
    if (
      kind.startsWith('data-api-') ||
      kind.startsWith('dynamodb-') ||
      kind === 'submit-response-lost'
    ) {
      faults[kind].injected = injectedOf(kind, afterRun, before);
    }
  }
  const limit = (c: Counters) => c.redshiftData.sessionLimitRejections ?? 0;
  const limited = limit(afterRun) - limit(before);
  faults['session-limit'] = { armed: 0, injected: limited };
  return faults;
}

/** How the executions ended: by status, by error, by kind. */
export function outcomesOf(records: ExecutionRecord[]) {
  const count = (filter: (r: ExecutionRecord) => boolean) => records.filter(filter).length;
  const byKind = (kind: ExecutionRecord['kind']) => {
    const tally: Record<string, number> = {};
    for (const r of records.filter((r) => r.kind === kind))
      tally[r.status] = (tally[r.status] ?? 0) + 1;
    return tally;
  };
  const failedBy: Record<string, number> = {};
  for (const r of records.filter((r) => r.status === 'FAILED'))
    failedBy[r.error ?? '(none)'] = (failedBy[r.error ?? '(none)'] ?? 0) + 1;
  return {
    SUCCEEDED: count((r) => r.status === 'SUCCEEDED'),
    FAILED: count((r) => r.status === 'FAILED'),
    ABORTED: count((r) => r.status === 'ABORTED'),
    TIMED_OUT: count((r) => r.status === 'TIMED_OUT'),
    hung: count((r) => r.hung),
    failedBy,
    byKind: { insert: byKind('insert'), select: byKind('select'), dirt: byKind('dirt') },
  };
}

/** What the stack counted over the run that is expected under chaos. */
export function observedOf(afterRun: Counters, before: Counters) {
  return {
    staleSessionRecoveries: delta(
      afterRun.lambdaInvocations,
      before.lambdaInvocations,
      'InvalidateSession',
    ),
    sessionsOpened: afterRun.redshiftData.sessionsOpened - before.redshiftData.sessionsOpened,
    statementsSubmitted:
      afterRun.redshiftData.statementsSubmitted - before.redshiftData.statementsSubmitted,
    lambdaInvocations: Object.fromEntries(
      Object.keys(afterRun.lambdaInvocations).map((fn) => [
        fn,
        delta(afterRun.lambdaInvocations, before.lambdaInvocations, fn),
      ]),
    ),
  };
}
