import type { SessionData, StatementData } from '@aws-sdk/client-redshift-data';
import type { SessionRecord } from '../../functions/common/session-record.ts';
import type { BadInputResult } from './bad-inputs.ts';
import { dataInvariants } from './data-invariants.ts';
import { examples, viewOf } from './invariant-view.ts';
import { sessionInvariants } from './session-invariants.ts';

/**
 * The promises a chaos run checks, each from what the public APIs report afterwards: Step
 * Functions (how each execution ended), the tenants' audit tables (what was really inserted), the
 * Data API's statements and sessions (what ran where, as whom, when) and the sessions table.
 */

export interface ExecutionRecord {
  name: string;
  /** `dirt`: an execution that leaves state in its session (or is refused for trying). */
  kind: 'insert' | 'select' | 'dirt';
  /** For `dirt`: what it does (see DIRT in chaos.ts). */
  dirt?: string;
  jobIndex: number;
  tenantId: string;
  /** The audit id the job inserts and selects. */
  id: string;
  executionArn: string;
  status: string;
  error?: string;
  cause?: Record<string, unknown>;
  output?: Record<string, unknown>;
  /** Still RUNNING at its timeout (then stopped by the harness). */
  hung: boolean;
  stoppedByChaos: boolean;
}

export interface Invariant {
  holds: boolean;
  [count: string]: unknown;
}

export type Invariants = Record<string, Invariant>;

export interface InvariantInputs {
  records: ExecutionRecord[];
  statements: StatementData[];
  sessions: SessionData[];
  sessionRecords: SessionRecord[];
  /** Every id in each tenant's audit table, one entry per row. */
  auditRows: Map<string, string[]>;
  /** The tenant's database user, as the functions derive it (dbUserFor and the template). */
  dbUserOf: (tenantId: string) => string;
  now: Date;
  /** Statements the Data API refused because their session was running another one. */
  busyRejections: number;
  /** Sessions the chaos closed: refusals of these are expected, and are not busy rejections. */
  expiredByChaos: Set<string>;
  lambdasStillRunning: number;
  /** Sessions still open when the run ended, closed before the audit tables were read. */
  sessionsClosedBeforeRead: number;
  /** The ids of those sessions: the pool must hold each, or have dropped it by a stated rule. */
  openAtEnd: string[];
  /** The pools' sizes sampled through the run, and the caps they must stay under. */
  poolSamples: {
    samples: number;
    largestPool: number;
    largestPoolId: string;
    largestTotal: number;
  };
  caps: { perTenant: number; total: number };
  badInputs?: { cases: number; refused: number; failures: BadInputResult[] };
}

export function checkInvariants(inputs: InvariantInputs): Invariants {
  const view = viewOf(inputs);
  const data = dataInvariants(inputs, view);
  const pool = sessionInvariants(inputs, view);

  const invariants: Invariants = {
    'every-execution-ends': data.everyExecutionEnds,
    'insert-exactly-once': data.insertExactlyOnce,
    'no-id-twice': data.noIdTwice,
    'failed-left-nothing': data.failedLeftNothing,
    'status-matches-data': data.statusMatchesData,
    'no-lease-left': pool.noLeaseLeft,
    'no-tenant-crossing': pool.noTenantCrossing,
    'no-concurrent-session-use': pool.noConcurrentSessionUse,
    'no-busy-session-statement': pool.noBusySessionStatement,
    'selects-see-inserts': data.selectsSeeInserts,
    'no-session-state-observed': data.noStateObserved,
    'dirt-refused-or-dropped': data.dirtHandled,
    'no-pool-above-its-cap': pool.noPoolAboveItsCap,
    'no-session-outside-the-pool': pool.noSessionOutsideThePool,
    // Insert-exactly-once reads the audit tables after every session closed: a write that only an
    // open transaction held would be gone.
    'writes-survive-session-close': {
      holds: data.insertExactlyOnce.holds,
      sessionsClosedBeforeRead: inputs.sessionsClosedBeforeRead,
      succeededInserts: data.insertExactlyOnce.succeededInserts,
      missing: data.insertExactlyOnce.missing,
    },
  };
  if (inputs.badInputs) {
    invariants['bad-input-refused'] = {
      holds: inputs.badInputs.failures.length === 0,
      cases: inputs.badInputs.cases,
      refused: inputs.badInputs.refused,
      examples: examples(inputs.badInputs.failures).map((f) => ({
        name: f.name,
        error: f.error,
        message: f.message,
        dynamoDbCalls: f.dynamoDbCalls,
        dataApiCalls: f.dataApiCalls,
      })),
    };
  }
  return invariants;
}
