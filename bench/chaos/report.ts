import type { ChaosReport } from './chaos.ts';
import { FAULT_LABELS, type FaultKind } from './faults.ts';

/** Counts by name, as `a 1, b 2`. */
const tally = (counts: Record<string, number>) =>
  Object.entries(counts)
    .map(([name, n]) => `${name} ${n}`)
    .join(', ');

const isTally = (value: unknown): value is Record<string, number> =>
  typeof value === 'object' &&
  value !== null &&
  !Array.isArray(value) &&
  Object.values(value).every((n) => typeof n === 'number');

/** The run as a table: faults by kind, executions by outcome, each invariant with its counts. */
export function formatReport(report: ChaosReport): string {
  const lines: string[] = [];
  const { config, outcomes } = report;
  lines.push(
    `Spectra chaos run: seed ${report.seed}, ${report.executions} executions across ${config.tenants} tenants, ` +
      `${config.concurrency} jobs at a time, ${config.engine}, Data API session cap ${config.maxDataApiSessions}, ` +
      `${report.durationSeconds} s`,
  );
  lines.push('');

  const kinds = Object.keys(report.faults) as FaultKind[];
  const labelWidth = Math.max(...kinds.map((k) => FAULT_LABELS[k].length));
  lines.push(`${'Faults'.padEnd(labelWidth)}  ${'armed'.padStart(6)}  ${'injected'.padStart(8)}`);
  for (const kind of kinds) {
    const { armed, injected } = report.faults[kind];
    const armedText = kind === 'session-limit' ? '-' : String(armed);
    lines.push(
      `${FAULT_LABELS[kind].padEnd(labelWidth)}  ${armedText.padStart(6)}  ${String(injected).padStart(8)}`,
    );
  }
  lines.push('');

  lines.push('Executions by outcome');
  const failedBy = Object.entries(outcomes.failedBy)
    .sort((a, b) => b[1] - a[1])
    .map(([error, n]) => `${error} ${n}`)
    .join(', ');
  lines.push(`  SUCCEEDED  ${String(outcomes.SUCCEEDED).padStart(5)}`);
  lines.push(
    `  FAILED     ${String(outcomes.FAILED).padStart(5)}${failedBy ? `  (${failedBy})` : ''}`,
  );
  lines.push(`  ABORTED    ${String(outcomes.ABORTED).padStart(5)}`);
  if (outcomes.TIMED_OUT > 0) lines.push(`  TIMED_OUT  ${String(outcomes.TIMED_OUT).padStart(5)}`);
  lines.push(`  hung       ${String(outcomes.hung).padStart(5)}`);
  const { insert, select, dirt } = outcomes.byKind;
  lines.push(
    `  INSERTs: ${tally(insert)}; SELECTs: ${tally(select)}` +
      (Object.keys(dirt).length > 0 ? `; dirtying: ${tally(dirt)}` : ''),
  );
  lines.push(
    `  observed: ${report.observed.staleSessionRecoveries} stale-session recoveries, ` +
      `${report.observed.sessionsOpened} sessions opened, ${report.observed.statementsSubmitted} statements`,
  );
  lines.push('');

  lines.push('Invariants');
  const names = Object.keys(report.invariants);
  const nameWidth = Math.max(...names.map((n) => n.length));
  for (const name of names) {
    const { holds, examples, ...counts } = report.invariants[name] as {
      holds: boolean;
      examples?: unknown;
    } & Record<string, unknown>;
    const text = Object.entries(counts)
      .map(([key, value]) => `${key} ${isTally(value) ? `(${tally(value)})` : String(value)}`)
      .join(', ');
    lines.push(`  ${holds ? 'holds ' : 'BROKEN'}  ${name.padEnd(nameWidth)}  ${text}`);
    if (!holds && Array.isArray(examples))
      for (const example of examples.slice(0, 5))
        lines.push(
          `            ${typeof example === 'string' ? example : JSON.stringify(example)}`,
        );
  }
  const broken = names.filter((n) => !report.invariants[n]?.holds);
  lines.push('');
  lines.push(
    broken.length === 0
      ? `Every invariant holds (${names.length}).`
      : `${broken.length} of ${names.length} invariants broken: ${broken.join(', ')}`,
  );
  return lines.join('\n');
}
