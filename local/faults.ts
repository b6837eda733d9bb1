import { Holds } from './holds.ts';

/**
 * What the local stack does to calls besides answering them, for the tests, the benchmark and the
 * reliability suite: it counts them, delays them, holds them until released, and fails them with
 * an armed error. One plan serves every target, whether the endpoint routes it to a service
 * (`Service.Operation`: `RedshiftData.ExecuteStatement`, `DynamoDB_20120810.UpdateItem`,
 * `AWSStepFunctions.StartExecution`) or the local Step Functions invokes a function
 * (`Lambda.<Function>`: `Lambda.SubmitQuery`).
 */

const LAMBDA_PREFIX = 'Lambda.';

/** The target under which the plan knows the invocations of a function. */
export const lambdaTarget = (functionName: string) => `${LAMBDA_PREFIX}${functionName}`;

export interface Fault {
  /** The error's name: an AWS error type, or the error a Lambda invocation reports. */
  error: string;
  message: string;
  /** The HTTP status a service answers with (Lambda targets have none). */
  statusCode: number;
  /** Lambda targets: the function runs, and then its response is lost. */
  afterInvoke: boolean;
}

export interface FaultRequest {
  error: string;
  message?: string;
  statusCode?: number;
  /** How many calls in a row fail (default 1). */
  count?: number;
  afterInvoke?: boolean;
}

/**
 * Where a hold keeps a call: before the service sees it (`request`, the default), or after the
 * service did what it asks, before its answer goes back (`response`): a write is then done and its
 * caller does not know yet.
 */
export type HoldPhase = 'request' | 'response';

export interface HoldRequest {
  /** Calls let through before the hold starts (default 0). */
  after?: number;
  /** How many calls it holds (default 1). */
  count?: number;
  phase?: HoldPhase;
}

/** The key a hold is known by: the target, and for a response hold `<target>:response`. */
export const holdKey = (target: string, phase: HoldPhase = 'request') =>
  phase === 'response' ? `${target}:response` : target;

/** What the plan has seen, per target. */
export interface FaultCounts {
  /** Calls per service target. */
  calls: Record<string, number>;
  /** Invocations per function. */
  lambdaInvocations: Record<string, number>;
  /** Faults met, per `target:error`. */
  faultsInjected: Record<string, number>;
  /** Calls waiting now on a hold, per target. */
  held: Record<string, number>;
}

/** The status an error is answered with when the fault does not say. */
const DEFAULT_STATUS: Record<string, number> = {
  InternalServerException: 500,
  InternalServerError: 500,
  ServiceUnavailable: 503,
  ExecuteStatementException: 500,
};

interface ArmedFault extends Fault {
  target: string;
  remaining: number;
}

interface Hold {
  /** Calls still to let through before holding. */
  passing: number;
  /** Calls still to hold. */
  remaining: number;
}

const increment = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);

export class FaultPlan {
  private readonly calls = new Map<string, number>();
  private readonly faults: ArmedFault[] = [];
  private readonly latencyMs = new Map<string, number>();
  private readonly injected = new Map<string, number>();
  private readonly holds = new Holds<Hold>();

  /** Makes the next `count` calls of `target` fail with `error`. */
  arm(target: string, request: FaultRequest): void {
    this.faults.push({
      target,
      error: request.error,
      message: request.message ?? `Injected ${request.error}`,
      statusCode: request.statusCode ?? DEFAULT_STATUS[request.error] ?? 400,
      afterInvoke: request.afterInvoke ?? false,
      remaining: request.count ?? 1,
    });
  }

  /** Adds `ms` before every later call of `target` is answered (0 removes it). */
  setLatency(target: string, ms: number): void {
    if (ms > 0) this.latencyMs.set(target, ms);
    else this.latencyMs.delete(target);
  }

  /**
   * Holds calls of `target` (after letting `after` through) until {@link release}. A new hold of
   * the same target first lets the calls the old one keeps go on.
   */
  hold(target: string, request: HoldRequest = {}): void {
    this.release(target, request.phase);
    this.holds.start(holdKey(target, request.phase), {
      passing: request.after ?? 0,
      remaining: request.count ?? 1,
    });
  }

  /** Lets the calls a hold keeps go on and ends the hold; returns how many it kept. */
  release(target: string, phase: HoldPhase = 'request'): number {
    return this.holds.release(holdKey(target, phase));
  }

  /** The fault to answer this call of `target` with, if one is armed; counts it as injected. */
  take(target: string): Fault | undefined {
    const fault = this.faults.find((each) => each.target === target && each.remaining > 0);
    if (!fault) return undefined;
    fault.remaining--;
    increment(this.injected, `${target}:${fault.error}`);
    const { error, message, statusCode, afterInvoke } = fault;
    return { error, message, statusCode, afterInvoke };
  }

  /**
   * One call of `target` arrives: it is counted, waits for its latency and any hold, and gets the
   * fault it is to fail with, if any.
   */
  async enter(target: string): Promise<Fault | undefined> {
    increment(this.calls, target);
    const latency = this.latencyMs.get(target) ?? 0;
    if (latency > 0) await new Promise((resolve) => setTimeout(resolve, latency));
    await this.waitForHold(target);
    return this.take(target);
  }

  /** A call of `target` has been answered by its service: it waits for any response hold. */
  async leave(target: string): Promise<void> {
    await this.waitForHold(holdKey(target, 'response'));
  }

  counts(): FaultCounts {
    const calls: Record<string, number> = {};
    const lambdaInvocations: Record<string, number> = {};
    for (const [target, count] of this.calls) {
      if (target.startsWith(LAMBDA_PREFIX))
        lambdaInvocations[target.slice(LAMBDA_PREFIX.length)] = count;
      else calls[target] = count;
    }
    return {
      calls,
      lambdaInvocations,
      faultsInjected: Object.fromEntries(this.injected),
      held: this.holds.keptPerKey(),
    };
  }

  /** No counts, faults, latency or holds (held calls go on). */
  reset(): void {
    this.calls.clear();
    this.faults.length = 0;
    this.latencyMs.clear();
    this.injected.clear();
    this.holds.releaseAll();
  }

  private async waitForHold(key: string): Promise<void> {
    const hold = this.holds.get(key);
    if (!hold) return;
    if (hold.passing > 0) {
      hold.passing--;
      return;
    }
    if (hold.remaining <= 0) return;
    hold.remaining--;
    await this.holds.keep(hold);
  }
}
