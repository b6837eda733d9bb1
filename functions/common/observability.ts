import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';

/**
 * Structured logs and CloudWatch metrics (embedded metric format), shared by every function.
 * `POWERTOOLS_SERVICE_NAME` and `POWERTOOLS_LOG_LEVEL` set by the deployment override the defaults.
 */
export const logger = new Logger({ serviceName: 'spectra' });

export const metrics = new Metrics({ namespace: 'Spectra', serviceName: 'spectra' });

/** The session pool's metrics; the dashboard's hit rate is SessionHit / (SessionHit + SessionMiss). */
export type SessionMetric =
  | 'SessionHit'
  | 'SessionMiss'
  | 'SessionCreated'
  | 'SessionExpired'
  | 'SessionInvalidated'
  | 'SessionLimitReached';

/** What a core function needs to report; the module's logger and metrics, or fakes in a test. */
export interface Telemetry {
  logger: Pick<Logger, 'info' | 'warn' | 'error' | 'debug' | 'appendKeys'>;
  metrics: Pick<Metrics, 'addMetric' | 'addDimension'>;
}

export const telemetry: Telemetry = { logger, metrics };

export function countSession(t: Telemetry, metric: SessionMetric, count = 1): void {
  if (count > 0) t.metrics.addMetric(metric, MetricUnit.Count, count);
}

/**
 * Puts the tenant on every log line and metric of this invocation (the logger's keys are reset
 * after each invocation by the middleware in `handler.ts`).
 */
export function tagInvocation(
  t: Telemetry,
  keys: {
    tenantId: string;
    executionArn?: string;
    statementId?: string;
    sessionId?: string | null;
  },
): void {
  t.logger.appendKeys(keys);
  t.metrics.addDimension('TenantId', keys.tenantId);
}

/**
 * The middlewares every handler uses: Lambda context and fresh keys on each log line, and the
 * invocation's metrics flushed as one EMF document when it ends.
 */
export const powertoolsMiddlewares = [
  injectLambdaContext(logger, { resetKeys: true }),
  logMetrics(metrics),
];
