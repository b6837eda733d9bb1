import { STATES } from '../../statemachine/definition.ts';
import type { Prng } from './prng.ts';
import type { StackApi } from './stack-api.ts';

/**
 * The faults a chaos run injects, each the way it happens on AWS: behind Spectra's back, through
 * the local stack's test controls or the public APIs, never by reaching into Spectra.
 */
export const FAULT_KINDS = [
  'session-expired-idle',
  'session-expired-leased',
  'session-closed-mid-statement',
  'data-api-throttling',
  'data-api-internal-error',
  'dynamodb-throughput-exceeded',
  'dynamodb-internal-error',
  'submit-response-lost',
  'stop-execution',
  'stop-during-submit',
] as const;
export type InjectedFaultKind = (typeof FAULT_KINDS)[number];
/** Not injected: the Data API's session cap, reached because the run's cap is low. */
export type FaultKind = InjectedFaultKind | 'session-limit';

export const FAULT_LABELS: Record<FaultKind, string> = {
  'session-expired-idle': 'session expired between queries (idle in the pool)',
  'session-expired-leased': 'session expired during an execution (leased, not running)',
  'session-closed-mid-statement': 'session closed while its statement runs',
  'data-api-throttling': 'ThrottlingException burst (Execute/DescribeStatement)',
  'data-api-internal-error': 'InternalServerException (Execute/DescribeStatement)',
  'dynamodb-throughput-exceeded': 'DynamoDB ProvisionedThroughputExceededException burst',
  'dynamodb-internal-error': 'DynamoDB InternalServerError',
  'submit-response-lost': 'SubmitQuery ran, its response lost (Lambda retried)',
  'stop-execution': 'StopExecution on a running execution',
  'stop-during-submit': 'StopExecution while Submit Query runs',
  'session-limit': 'ActiveSessionsExceededException at the session cap',
};

const DEFAULT_WEIGHTS: Record<InjectedFaultKind, number> = {
  'session-expired-idle': 3,
  'session-expired-leased': 2,
  'session-closed-mid-statement': 3,
  'data-api-throttling': 3,
  'data-api-internal-error': 2,
  'dynamodb-throughput-exceeded': 3,
  'dynamodb-internal-error': 2,
  'submit-response-lost': 2,
  'stop-execution': 2,
  'stop-during-submit': 2,
};

/** Kinds armed through /_spectra/faults, which hit a call later. */
const ARMED_KINDS: ReadonlySet<InjectedFaultKind> = new Set([
  'data-api-throttling',
  'data-api-internal-error',
  'dynamodb-throughput-exceeded',
  'dynamodb-internal-error',
  'submit-response-lost',
]);
/** Injections under way at once; searches for a busy or leased session take a while. */
const MAX_INJECTIONS_IN_FLIGHT = 4;

/** The operations the functions call; the harness itself only scans and lists. */
const DATA_API_TARGETS = ['RedshiftData.ExecuteStatement', 'RedshiftData.DescribeStatement'];
const DYNAMODB_TARGETS = [
  'DynamoDB_20120810.Query',
  'DynamoDB_20120810.UpdateItem',
  'DynamoDB_20120810.UpdateItem',
  'DynamoDB_20120810.PutItem',
  'DynamoDB_20120810.DeleteItem',
];

/**
 * The bursts of a transient error armed on a call of the Data API or DynamoDB: on which calls,
 * which error, and at most how many in a row (the count is drawn from 1 to that).
 */
const BURSTS = {
  'data-api-throttling': { targets: DATA_API_TARGETS, error: 'ThrottlingException', most: 6 },
  'data-api-internal-error': {
    targets: DATA_API_TARGETS,
    error: 'InternalServerException',
    most: 3,
  },
  'dynamodb-throughput-exceeded': {
    targets: DYNAMODB_TARGETS,
    error: 'ProvisionedThroughputExceededException',
    most: 6,
  },
  'dynamodb-internal-error': { targets: DYNAMODB_TARGETS, error: 'InternalServerError', most: 3 },
} satisfies Partial<Record<InjectedFaultKind, { targets: string[]; error: string; most: number }>>;

/** Armed: the control accepted it. Injected: it hit a call (or an execution, or a session). */
export interface FaultCount {
  armed: number;
  injected: number;
}

export interface InjectorOptions {
  /** Milliseconds between two faults, drawn uniformly. */
  intervalMs: [number, number];
  /** The executions running now, that a stop may pick from. */
  running: () => string[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Injects faults until stopped. Kinds are drawn by weight, but a kind that has not been injected
 * yet goes first, so that even a short run meets every kind.
 */
export class FaultInjector {
  readonly counts = Object.fromEntries(
    FAULT_KINDS.map((kind) => [kind, { armed: 0, injected: 0 }]),
  ) as Record<InjectedFaultKind, FaultCount>;
  /** Executions this injector stopped; their cleanups are awaited before the checks. */
  readonly stopped = new Set<string>();
  /** Sessions it expired, by id: a refusal of one of these is expected, not a defect. */
  readonly expiredSessions = new Set<string>();
  /** Stops under way: each returns after the stopped execution's cleanup. */
  private readonly pending = new Set<Promise<unknown>>();
  /** Injections under way. */
  private readonly injecting = new Set<Promise<unknown>>();
  /** Faults armed per target, to tell from the endpoint's counts whether a burst is still due. */
  private readonly armedByTarget = new Map<string, number>();
  /** Targets being armed right now (injections run side by side). */
  private readonly arming = new Set<string>();
  private running = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly api: StackApi,
    private readonly prng: Prng,
    private readonly options: InjectorOptions,
  ) {}

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  /** Stops injecting and waits for what is under way (stops and their cleanups). */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    await Promise.allSettled([...this.injecting]);
    await Promise.allSettled([...this.pending]);
  }

  /** A kind is covered once it hit something, or, for an armed fault, once it is armed. */
  private covered(kind: InjectedFaultKind): boolean {
    const { armed, injected } = this.counts[kind];
    return injected > 0 || (armed > 0 && ARMED_KINDS.has(kind));
  }

  private nextKind(): InjectedFaultKind {
    const uncovered = FAULT_KINDS.filter((kind) => !this.covered(kind));
    if (uncovered.length > 0 && this.prng.next() < 0.6) return this.prng.pick(uncovered);
    return this.prng.weighted(DEFAULT_WEIGHTS);
  }

  private async run(): Promise<void> {
    const [min, max] = this.options.intervalMs;
    while (this.running) {
      await sleep(this.prng.int(min, max));
      if (!this.running) break;
      // A search for a busy session can take a while; the next fault does not wait for it.
      while (this.injecting.size >= MAX_INJECTIONS_IN_FLIGHT) await Promise.race(this.injecting);
      const kind = this.nextKind();
      const injecting = this.inject(kind)
        .catch((error: unknown) => {
          // The harness must not die of a fault it injected into its own view; say so, go on.
          console.error(`chaos: injecting ${kind} failed: ${(error as Error).message}`);
        })
        .finally(() => this.injecting.delete(injecting));
      this.injecting.add(injecting);
    }
  }

  /**
   * Arms a burst of `count` failures of `target`, unless the target's last burst has not been met
   * yet. Armed faults wait for calls; armed faster than calls come, they would add up to an outage
   * longer than every retry budget, after which a lease can only run out. Faults come in bursts.
   */
  private async arm(
    kind: InjectedFaultKind,
    target: string,
    error: string,
    count: number,
    extra: Record<string, unknown> = {},
  ) {
    if (this.arming.has(target)) return;
    this.arming.add(target);
    try {
      const { faultsInjected } = await this.api.counters();
      const met = Object.entries(faultsInjected)
        .filter(([key]) => key.startsWith(`${target}:`))
        .reduce((sum, [, n]) => sum + n, 0);
      const armed = this.armedByTarget.get(target) ?? 0;
      if (armed > met) return;
      await this.api.control('faults', { target, error, count, ...extra });
      this.armedByTarget.set(target, armed + count);
      this.counts[kind].armed += count;
    } finally {
      this.arming.delete(target);
    }
  }

  private async expire(kind: InjectedFaultKind, candidates: string[]): Promise<void> {
    if (candidates.length === 0) return;
    const sessionId = this.prng.pick(candidates);
    this.counts[kind].armed++;
    const response = await fetch(`${this.api.url}/_spectra/sessions/expire`, {
      method: 'POST',
      body: JSON.stringify({ sessionId }),
    });
    if (response.status === 200) {
      this.counts[kind].injected++;
      this.expiredSessions.add(sessionId);
    }
  }

  /**
   * Looks up to 20 times, `pauseMs` apart, for the moment a fault needs (a session in some state,
   * an execution inside a step): `injectIfFound` answers whether it found one and injected.
   */
  private async lookAFewTimes(
    pauseMs: number,
    injectIfFound: () => Promise<boolean>,
  ): Promise<void> {
    for (let attempt = 0; attempt < 20 && this.running; attempt++) {
      if (await injectIfFound()) return;
      await sleep(pauseMs);
    }
  }

  private async inject(kind: InjectedFaultKind): Promise<void> {
    switch (kind) {
      case 'session-expired-idle':
      case 'session-expired-leased':
        // A leased session waits for its statement only briefly: look a few times.
        return this.lookAFewTimes(25, async () => {
          const [available, records] = await Promise.all([
            this.api.sessionsWithStatus('AVAILABLE'),
            this.api.sessionRecords(),
          ]);
          const leased = new Set(
            records.filter((r) => r.state === 'LEASED').map((r) => r.session_id),
          );
          const candidates = available
            .map((session) => session.SessionId as string)
            .filter((id) => (kind === 'session-expired-leased') === leased.has(id));
          if (candidates.length === 0) return false;
          await this.expire(kind, candidates);
          return true;
        });
      case 'session-closed-mid-statement':
        // Statements are short: look a few times for one that is running.
        return this.lookAFewTimes(25, async () => {
          const busy = await this.api.sessionsWithStatus('BUSY');
          if (busy.length === 0) return false;
          await this.expire(
            kind,
            busy.map((s) => s.SessionId as string),
          );
          return true;
        });
      case 'data-api-throttling':
      case 'data-api-internal-error':
      case 'dynamodb-throughput-exceeded':
      case 'dynamodb-internal-error': {
        const burst = BURSTS[kind];
        return this.arm(
          kind,
          this.prng.pick(burst.targets),
          burst.error,
          this.prng.int(1, burst.most),
        );
      }
      case 'submit-response-lost':
        return this.arm(kind, 'Lambda.SubmitQuery', 'Lambda.ServiceException', 1, {
          afterInvoke: true,
          message: 'Chaos: the function ran and its response was lost',
        });
      case 'stop-execution': {
        const candidates = this.options.running().filter((arn) => !this.stopped.has(arn));
        if (candidates.length === 0) return;
        return this.stopExecution(kind, this.prng.pick(candidates));
      }
      case 'stop-during-submit':
        // Submit Query runs for a moment only: look a few times for an execution inside it.
        return this.lookAFewTimes(10, async () => {
          const candidates = this.options.running().filter((arn) => !this.stopped.has(arn));
          for (const executionArn of candidates) {
            if ((await this.api.taskInFlight(executionArn)) === STATES.submit) {
              this.stopExecution(kind, executionArn);
              return true;
            }
          }
          return false;
        });
    }
  }

  private stopExecution(kind: 'stop-execution' | 'stop-during-submit', executionArn: string): void {
    this.counts[kind].armed++;
    this.stopped.add(executionArn);
    // Not awaited: the local StopExecution returns after the cleanup function, which may wait
    // seconds for a cancelled statement; the next fault should not wait for it.
    const stopping = this.api
      .stop(executionArn, 'chaos')
      .then(() => {
        this.counts[kind].injected++;
      })
      .finally(() => this.pending.delete(stopping));
    this.pending.add(stopping);
  }
}
