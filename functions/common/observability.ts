import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Config } from './config.ts';

/**
 * Structured logs and CloudWatch metrics (embedded metric format), shared by every function.
 * `POWERTOOLS_SERVICE_NAME` and `POWERTOOLS_LOG_LEVEL` set by the deployment override the defaults.
 *
 * Log lines carry names, ids, sizes and timings: error names, tenant, execution, statement and
 * session ids, counts and durations. Never what a tenant sent or Redshift said about it (SQL text,
 * parameter values, rows, Redshift's error text), at any log level, unless the deployment opts in
 * with `SPECTRA_LOG_SQL=true` ({@link tenantData}). The execution's Cause keeps Redshift's message
 * for the console; the logs do not.
 */
/**
 * The service every log line and metric is tagged with, and the metrics' namespace. The deployment
 * passes the same to the functions (POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE), and
 * the dashboard and alarms search for them.
 */
export const SERVICE_NAME = 'spectra';
export const METRICS_NAMESPACE = 'Spectra';

export const logger = new Logger({ serviceName: SERVICE_NAME });

/**
 * Metrics warns on every invocation that counted nothing, which most steps are (PollStatus,
 * FetchResults, ...); that is expected here, so the warning goes to debug. Other warnings stay.
 */
const metricsLogger = {
  trace: (...args: unknown[]) => logger.trace(String(args[0])),
  debug: (...args: unknown[]) => logger.debug(String(args[0])),
  info: (...args: unknown[]) => logger.info(String(args[0])),
  warn: (...args: unknown[]) =>
    String(args[0]).startsWith('No application metrics to publish')
      ? logger.debug(String(args[0]))
      : logger.warn(String(args[0])),
  error: (...args: unknown[]) => logger.error(String(args[0])),
};

export const metrics = new Metrics({
  namespace: METRICS_NAMESPACE,
  serviceName: SERVICE_NAME,
  logger: metricsLogger,
});

/** The session pool's metrics; the dashboard's hit rate is SessionHit / (SessionHit + SessionMiss). */
export type SessionMetric =
  | 'SessionHit'
  | 'SessionMiss'
  | 'SessionCreated'
  | 'SessionExpired'
  | 'SessionInvalidated'
  /** Dropped after its SQL left state in it (a setting, a temporary table, ...). */
  | 'SessionDiscarded'
  | 'SessionLimitReached'
  | 'SessionTotalCapReached';

/** What a core function needs to report; the module's logger and metrics, or fakes in a test. */
export interface Telemetry {
  logger: Pick<Logger, 'info' | 'warn' | 'error' | 'debug' | 'appendKeys'>;
  metrics: Pick<Metrics, 'addMetric' | 'addDimension'>;
}

export const telemetry: Telemetry = { logger, metrics };

/**
 * Fields that hold a tenant's data (SQL text, parameter values, Redshift's error text), for a log
 * line: none unless `SPECTRA_LOG_SQL` is true, which exposes that data to whoever reads the logs.
 */
export function tenantData(
  config: Pick<Config, 'logSql'>,
  fields: Record<string, unknown>,
): Record<string, unknown> {
  return config.logSql ? fields : {};
}

export function countSession(t: Telemetry, metric: SessionMetric, count = 1): void {
  if (count > 0) t.metrics.addMetric(metric, MetricUnit.Count, count);
}

/** The keys {@link tagInvocation} puts on an invocation's log lines. */
export type InvocationKeys = {
  tenantId: string;
  executionArn?: string;
  statementId?: string;
  sessionId?: string | null;
};

/**
 * Puts the tenant on every log line and metric of this invocation (the logger's keys are reset
 * at the start of each invocation by {@link powertoolsMiddlewares}).
 */
export function tagInvocation(t: Telemetry, keys: InvocationKeys): void {
  t.logger.appendKeys(keys);
  t.metrics.addDimension('TenantId', keys.tenantId);
}

/**
 * The middlewares every handler uses: Lambda context and fresh keys on each log line, and the
 * invocation's metrics flushed as one EMF document when it ends. The event is never logged, even
 * with `POWERTOOLS_LOGGER_LOG_EVENT` set: it holds the tenant's SQL and parameters.
 */
export const powertoolsMiddlewares = [
  injectLambdaContext(logger, { resetKeys: true, logEvent: false }),
  logMetrics(metrics),
];
