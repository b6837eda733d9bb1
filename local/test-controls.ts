import type { IncomingMessage, ServerResponse } from 'node:http';
import { INPUT_LIMITS, INPUT_RULES } from '../functions/common/execution-input.ts';
import { writeJson } from './aws-json.ts';
import type { FaultCounts, FaultPlan, HoldPhase } from './faults.ts';
import { HOLD_STATUSES, type HoldStatus } from './redshift-data/controls.ts';
import type { EmulatorControls, RedshiftDataEmulatorStats } from './redshift-data/emulator.ts';

/**
 * Routes under `/_spectra/` on the local endpoint (loopback callers only), for tests, the
 * benchmarks and the reliability suite. They only map HTTP onto the stack's {@link FaultPlan} and
 * the Data API emulator's controls:
 *
 * - `GET  /_spectra/health`
 * - `GET  /_spectra/counters`: calls per `X-Amz-Target`, Lambda invocations per function (and how
 *   many are still running), faults injected, calls held, and the Data API emulator's own counts
 *   (sessions opened, busy rejections, statements held, ...)
 * - `POST /_spectra/reset`: clears counters, faults, latency and holds (held calls and statements
 *   go on)
 * - `POST /_spectra/sessions/expire` `{"sessionId"}`: the Data API closes that session now
 * - `POST /_spectra/faults` `{"target", "error", "count"?, "message"?, "statusCode"?, "afterInvoke"?}`:
 *   the next `count` calls of `target` fail with `error`. A target is `Service.Operation`
 *   (`RedshiftData.ExecuteStatement`, `DynamoDB_20120810.UpdateItem`, `AWSStepFunctions.StartExecution`)
 *   or `Lambda.<Function>` (`Lambda.SubmitQuery`); with `afterInvoke` the function runs and then
 *   its response is lost, as when a Lambda dies before returning.
 * - `POST /_spectra/latency` `{"target", "ms"}`: adds latency to a target; the target
 *   `RedshiftData.Connect` delays each connection the Data API opens: a statement's that opens a
 *   session, or one's without a session (a session's later statements connect no more).
 * - `POST /_spectra/holds` `{"target", "after"?, "count"?, "phase"?}`: the next `count` calls of
 *   `target` (default 1), after letting `after` through, wait until released: before the service
 *   sees them (`phase` `request`, the default), or, for a service, once it has carried them out
 *   and before its answer goes back (`response`); the counters' `held` says how many wait, by
 *   target (`<target>:response` for a response hold)
 * - `POST /_spectra/holds/release` `{"target", "phase"?}`: lets them go on, and holds no more
 * - `POST /_spectra/statements/hold` `{"sqlContains", "status"?, "seconds"?}`: the Data API holds
 *   each statement submitted from now on whose SQL contains `sqlContains`, at `status` (`STARTED`,
 *   the default: before the engine runs it; `PICKED`: before its connection opens; or `RAN`: once
 *   the engine has run it, before its outcome is committed, so that a stop meanwhile is one that
 *   comes while the engine runs it), until it is released, or with
 *   `seconds` for that long on the stack's clock; the counters' `redshiftData.statementsHeld` says
 *   how many wait
 * - `POST /_spectra/statements/release` `{"sqlContains"}`: lets them go on, and holds no more
 * - `POST /_spectra/results/expire` `{"now"}`: applies the results bucket's lifecycle rule as at
 *   `now` (ISO 8601): deletes every result whose expiry has come by then; answers `{"expired": [keys]}`
 * - `POST /_spectra/sessions/fail-transaction` `{"sessionId"}`: the session answers every
 *   statement as one inside a failed transaction (SQLSTATE 25P02) until a ROLLBACK
 * - `POST /_spectra/db-users` `{"tenantId"}`: creates the tenant's database user (named as the
 *   functions name it) with the demo grants, seeing the tenant's rows; answers
 *   `{"tenantId", "dbUser", "created"}` (`created` false when it existed).
 */

/** What `GET /_spectra/counters` answers. */
export interface CountersResponse extends FaultCounts {
  /** Lambda invocations started and not yet returned (handlers keep running after a stop). */
  lambdaInFlight: number;
  redshiftData: RedshiftDataEmulatorStats;
}

export interface ControlState {
  faults: FaultPlan;
  /**
   * Invocations started and not yet returned. A stopped execution's handler keeps running, as on
   * AWS, so a test that checks the end state waits for this to reach 0.
   */
  lambdaInFlight(): number;
  emulator: EmulatorControls;
  /** The tenant's database user as the functions derive it; throws for one no tenant may be. */
  dbUserOf(tenantId: string): string;
  /** The results bucket's lifecycle, applied as at `now`; the keys it deleted. */
  expireResults(now: Date): Promise<string[]>;
}

/** The latency target that the emulator, not the endpoint, adds: to each connection it opens. */
const CONNECT_TARGET = 'RedshiftData.Connect';

function parseBody(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  const parsed: unknown = JSON.parse(body.toString('utf8'));
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new Error('The body must be a JSON object');
  return parsed as Record<string, unknown>;
}

/**
 * The largest delay a Node timer keeps: a longer one is silently shortened to 1 ms, so a latency
 * or count above it is refused rather than turned into almost nothing.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

const isCount = (value: unknown): value is number =>
  typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= MAX_TIMER_MS;
const isMilliseconds = (value: unknown): value is number =>
  typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_TIMER_MS;
/** The statuses an AWS service error can have. */
const isErrorStatus = (value: unknown) =>
  value === undefined ||
  (typeof value === 'number' && Number.isInteger(value) && value >= 400 && value <= 599);
const isHoldPhase = (value: unknown): value is HoldPhase =>
  value === 'request' || value === 'response';
const isHoldStatus = (value: unknown): value is HoldStatus =>
  HOLD_STATUSES.includes(value as HoldStatus);
const isTarget = (value: unknown): value is string =>
  typeof value === 'string' && value.includes('.');

export function controlRoutes(state: ControlState) {
  return async (req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> => {
    const route = `${req.method} ${(req.url ?? '').split('?')[0]}`;
    const reply = (status: number, payload: unknown) =>
      writeJson(res, status, payload, 'application/json');
    let input: Record<string, unknown>;
    try {
      input = parseBody(body);
    } catch (error) {
      reply(400, { message: (error as Error).message });
      return;
    }
    switch (route) {
      case 'GET /_spectra/health':
        return reply(200, { status: 'ok' });
      case 'GET /_spectra/counters': {
        const counters: CountersResponse = {
          ...state.faults.counts(),
          lambdaInFlight: state.lambdaInFlight(),
          redshiftData: state.emulator.stats(),
        };
        return reply(200, counters);
      }
      case 'POST /_spectra/reset':
        state.faults.reset();
        state.emulator.reset();
        return reply(200, { reset: true });
      case 'POST /_spectra/sessions/expire': {
        if (typeof input.sessionId !== 'string')
          return reply(400, { message: 'sessionId (string) is required' });
        const known = state.emulator.expireSession(input.sessionId);
        return known === false
          ? reply(404, { message: `No session ${input.sessionId}` })
          : reply(200, { expired: input.sessionId });
      }
      case 'POST /_spectra/faults': {
        const { target, error, count = 1 } = input;
        if (
          !isTarget(target) ||
          typeof error !== 'string' ||
          !isCount(count) ||
          !isErrorStatus(input.statusCode)
        ) {
          return reply(400, {
            message: `Expected {"target": "Service.Operation" or "Lambda.<Function>", "error": "<ErrorName>", "count"?: 1 to ${MAX_TIMER_MS}, "statusCode"?: 400 to 599}`,
          });
        }
        state.faults.arm(target, {
          error,
          count,
          message: typeof input.message === 'string' ? input.message : undefined,
          statusCode: typeof input.statusCode === 'number' ? input.statusCode : undefined,
          afterInvoke: input.afterInvoke === true,
        });
        return reply(200, { armed: { target, error, count } });
      }
      case 'POST /_spectra/latency': {
        const { target, ms } = input;
        if (typeof target !== 'string' || !isMilliseconds(ms)) {
          return reply(400, {
            message: `Expected {"target": "Service.Operation", "ms": a whole number from 0 to ${MAX_TIMER_MS}}; got ${JSON.stringify(ms ?? null)}`,
          });
        }
        if (target === CONNECT_TARGET) state.emulator.setConnectLatency(ms);
        else state.faults.setLatency(target, ms);
        return reply(200, { latency: { target, ms } });
      }
      case 'POST /_spectra/holds': {
        const { target, after = 0, count = 1, phase = 'request' } = input;
        if (
          !isTarget(target) ||
          !(after === 0 || isCount(after)) ||
          !isCount(count) ||
          !isHoldPhase(phase)
        ) {
          return reply(400, {
            message:
              'Expected {"target": "Service.Operation" or "Lambda.<Function>", "after"?: n >= 0, "count"?: n >= 1, "phase"?: "request" or "response" (services only)}',
          });
        }
        state.faults.hold(target, { after, count, phase });
        return reply(200, { holding: { target, after, count, phase } });
      }
      case 'POST /_spectra/holds/release': {
        const { target, phase = 'request' } = input;
        if (!isTarget(target) || !isHoldPhase(phase))
          return reply(400, {
            message: 'target ("Service.Operation") is required; phase is "request" or "response"',
          });
        return reply(200, { released: state.faults.release(target, phase) });
      }
      case 'POST /_spectra/statements/hold': {
        const { sqlContains, status = 'STARTED', seconds } = input;
        if (
          typeof sqlContains !== 'string' ||
          sqlContains === '' ||
          !isHoldStatus(status) ||
          (seconds !== undefined &&
            (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0))
        ) {
          return reply(400, {
            message:
              'Expected {"sqlContains": "<text>", "status"?: "STARTED", "PICKED", "RAN" or "COMMITTED", "seconds"?: a number of seconds, 0 or more}',
          });
        }
        state.emulator.holdStatements(sqlContains, status, seconds);
        return reply(200, { holding: { sqlContains, status, seconds } });
      }
      case 'POST /_spectra/statements/release': {
        if (typeof input.sqlContains !== 'string')
          return reply(400, { message: 'sqlContains (string) is required' });
        return reply(200, { released: state.emulator.releaseStatements(input.sqlContains) });
      }
      case 'POST /_spectra/results/expire': {
        const now = typeof input.now === 'string' ? new Date(input.now) : undefined;
        if (now === undefined || Number.isNaN(now.getTime()))
          return reply(400, {
            message: `Expected {"now": "<ISO 8601 time>"}; got ${JSON.stringify(input.now ?? null)}`,
          });
        return reply(200, { expired: await state.expireResults(now) });
      }
      case 'POST /_spectra/sessions/fail-transaction': {
        if (typeof input.sessionId !== 'string')
          return reply(400, { message: 'sessionId (string) is required' });
        const failed = state.emulator.failSessionTransaction(input.sessionId);
        return failed
          ? reply(200, { failed: input.sessionId })
          : reply(404, { message: `No open session ${input.sessionId}` });
      }
      case 'POST /_spectra/db-users': {
        const { tenantId } = input;
        if (typeof tenantId !== 'string' || !INPUT_LIMITS.tenantIdPattern.test(tenantId))
          return reply(400, {
            message: `Expected {"tenantId": "<tenant id>"}, a tenant id of ${INPUT_RULES.tenantId}; got ${JSON.stringify(tenantId ?? null)}`,
          });
        let dbUser: string;
        try {
          dbUser = state.dbUserOf(tenantId);
        } catch (error) {
          return reply(400, { message: (error as Error).message });
        }
        const created = await state.emulator.createTenantUser({ tenantId, dbUser });
        return reply(200, { tenantId, dbUser, created });
      }
      default:
        return reply(404, { message: `No test control ${route}` });
    }
  };
}
