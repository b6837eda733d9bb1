import type { IncomingMessage, ServerResponse } from 'node:http';
import { INPUT_LIMITS, INPUT_RULES } from '../functions/common/schemas.ts';
import { writeJson } from './aws-json.ts';
import type { TrafficControls } from './endpoint.ts';
import type { TenantUser } from './redshift-data/demo-data.ts';
import type { RedshiftDataEmulatorStats } from './redshift-data/emulator.ts';

/**
 * Routes under `/_spectra/` on the local endpoint (loopback callers only), for tests, the
 * benchmarks and the reliability suite:
 *
 * - `GET  /_spectra/health`
 * - `GET  /_spectra/counters`: calls per `X-Amz-Target`, Lambda invocations per function (and how
 *   many are still running), faults injected, and the Data API emulator's own counts (sessions
 *   opened, busy rejections, ...)
 * - `POST /_spectra/reset`: clears counters, faults and latency
 * - `POST /_spectra/sessions/expire` `{"sessionId"}`: the Data API closes that session now
 * - `POST /_spectra/faults` `{"target", "error", "count"?, "message"?, "statusCode"?, "afterInvoke"?}`:
 *   the next `count` calls of `target` fail with `error`. A target is `Service.Operation`
 *   (`RedshiftData.ExecuteStatement`, `DynamoDB_20120810.UpdateItem`, `AWSStepFunctions.StartExecution`)
 *   or `Lambda.<Function>` (`Lambda.SubmitQuery`); with `afterInvoke` the function runs and then
 *   its response is lost, as when a Lambda dies before returning.
 * - `POST /_spectra/latency` `{"target", "ms"}`: adds latency to a target; the target
 *   `RedshiftData.OpenSession` delays only statements that open a new session.
 * - `POST /_spectra/db-users` `{"tenantId"}`: creates the tenant's database user (named as the
 *   functions name it) with the demo grants, seeing the tenant's rows; answers
 *   `{"tenantId", "dbUser", "created"}` (`created` false when it existed).
 */

export interface ControlledEmulator {
  expireSession(sessionId: string): boolean;
  setSessionOpenLatency(ms: number): void;
  stats(): RedshiftDataEmulatorStats;
  createTenantUser(user: TenantUser): Promise<boolean>;
}

/** What `GET /_spectra/counters` answers. */
export interface CountersResponse {
  /** Calls per `X-Amz-Target`. */
  calls: Record<string, number>;
  lambdaInvocations: Record<string, number>;
  /** Lambda invocations started and not yet returned (handlers keep running after a stop). */
  lambdaInFlight: number;
  /** Faults met, per `target:error`. */
  faultsInjected: Record<string, number>;
  redshiftData: RedshiftDataEmulatorStats;
}

export interface LambdaFault {
  functionName: string;
  error: string;
  message: string;
  remaining: number;
  afterInvoke: boolean;
}

export interface ControlState {
  traffic: TrafficControls;
  lambdaInvocations: Map<string, number>;
  /**
   * Invocations started and not yet returned. A stopped execution's handler keeps running, as on
   * AWS, so a test that checks the end state waits for this to reach 0.
   */
  lambdaInFlight: number;
  lambdaFaults: LambdaFault[];
  emulator: ControlledEmulator;
  /** The tenant's database user as the functions derive it; throws for one no tenant may be. */
  dbUserOf(tenantId: string): string;
}

function parseBody(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  const parsed: unknown = JSON.parse(body.toString('utf8'));
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new Error('The body must be a JSON object');
  return parsed as Record<string, unknown>;
}

const DEFAULT_STATUS: Record<string, number> = {
  InternalServerException: 500,
  InternalServerError: 500,
  ServiceUnavailable: 503,
  ExecuteStatementException: 500,
};

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
          calls: Object.fromEntries(state.traffic.counters),
          lambdaInvocations: Object.fromEntries(state.lambdaInvocations),
          lambdaInFlight: state.lambdaInFlight,
          faultsInjected: Object.fromEntries(state.traffic.faultsInjected),
          redshiftData: state.emulator.stats(),
        };
        return reply(200, counters);
      }
      case 'POST /_spectra/reset':
        state.traffic.reset();
        state.lambdaInvocations.clear();
        state.lambdaFaults.length = 0;
        state.emulator.setSessionOpenLatency(0);
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
        const { target, error } = input;
        const count = input.count ?? 1;
        if (
          typeof target !== 'string' ||
          !target.includes('.') ||
          typeof error !== 'string' ||
          typeof count !== 'number' ||
          count < 1
        ) {
          return reply(400, {
            message:
              'Expected {"target": "Service.Operation" or "Lambda.<Function>", "error": "<ErrorName>", "count"?: n >= 1}',
          });
        }
        const message = typeof input.message === 'string' ? input.message : `Injected ${error}`;
        if (target.startsWith('Lambda.')) {
          state.lambdaFaults.push({
            functionName: target.slice('Lambda.'.length),
            error,
            message,
            remaining: count,
            afterInvoke: input.afterInvoke === true,
          });
        } else {
          const statusCode =
            typeof input.statusCode === 'number'
              ? input.statusCode
              : (DEFAULT_STATUS[error] ?? 400);
          state.traffic.faults.push({ target, error, message, statusCode, remaining: count });
        }
        return reply(200, { armed: { target, error, count } });
      }
      case 'POST /_spectra/latency': {
        const { target, ms } = input;
        if (typeof target !== 'string' || typeof ms !== 'number' || ms < 0) {
          return reply(400, { message: 'Expected {"target": "Service.Operation", "ms": n >= 0}' });
        }
        if (target === 'RedshiftData.OpenSession') state.emulator.setSessionOpenLatency(ms);
        else state.traffic.latencyMs.set(target, ms);
        return reply(200, { latency: { target, ms } });
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
