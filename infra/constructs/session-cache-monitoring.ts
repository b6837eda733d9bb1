import { Duration, Stack } from 'aws-cdk-lib';
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IAlarm,
  type IMetric,
  MathExpression,
  SingleValueWidget,
  Stats,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../../functions/common/observability.ts';

/**
 * The session pool's dashboard and the alarms an operator acts on.
 *
 * Powertools Metrics emits each session metric with the dimensions `service` (always, from the
 * Metrics' service name) and `TenantId` (added per invocation by `tagInvocation`), i.e. one time
 * series per tenant and none without the tenant. Graphs therefore SEARCH the namespace for every
 * tenant's series and sum them; the alarm, which cannot use SEARCH, sums them with a Metrics
 * Insights query instead.
 */

export const DASHBOARD_TITLE = 'Session Cache Performance';
/** The hit rate under which an operator should look at the pool's settings. */
export const HIT_RATE_THRESHOLD_PERCENT = 90;
/**
 * Below this many acquisitions in the alarm's window the hit rate says little (the first query of
 * every tenant after a quiet hour is a miss), so the alarm counts such a window as healthy.
 */
export const HIT_RATE_MIN_ACQUISITIONS = 20;

const DIMENSIONS = `{${METRICS_NAMESPACE},TenantId,service}`;

/** Every tenant's series of one session metric, as a SEARCH for graphs. */
function perTenant(metricName: string, period: Duration): MathExpression {
  return new MathExpression({
    expression: `SEARCH('${DIMENSIONS} MetricName="${metricName}" service="${SERVICE_NAME}"', 'Sum', ${period.toSeconds()})`,
    // An empty label lets each series be labelled with its tenant.
    label: '',
    period,
  });
}

/** One session metric summed over every tenant, for graphs. */
function allTenants(metricName: string, period: Duration): MathExpression {
  // Ids must differ between the metrics of one expression, and start with a lowercase letter.
  const id = `tenants${metricName}`;
  return new MathExpression({
    expression: `SUM(${id})`,
    usingMetrics: { [id]: perTenant(metricName, period) },
    label: metricName,
    period,
  });
}

/** One session metric summed over every tenant, as a Metrics Insights query (alarms allow it). */
function allTenantsQuery(metricName: string, period: Duration): MathExpression {
  return new MathExpression({
    expression: `SELECT SUM(${metricName}) FROM SCHEMA("${METRICS_NAMESPACE}", TenantId, service) WHERE service = '${SERVICE_NAME}'`,
    label: metricName,
    period,
  });
}

function hitRate(hits: IMetric, misses: IMetric, period: Duration, guarded: boolean) {
  const rate = '100 * hits / (hits + misses)';
  return new MathExpression({
    expression: guarded ? `IF(hits + misses >= ${HIT_RATE_MIN_ACQUISITIONS}, ${rate}, 100)` : rate,
    usingMetrics: { hits, misses },
    label: 'Session hit rate (%)',
    period,
  });
}

export interface SessionCacheMonitoringProps {
  readonly stateMachine: StateMachine;
  /** Every Spectra function, by its catalog name. */
  readonly functions: Record<string, IFunction>;
  /** Unique in the account and Region. */
  readonly dashboardName: string;
  /** Where alarms notify; none when unset. */
  readonly alarmTopicArn?: string;
}

export class SessionCacheMonitoring extends Construct {
  readonly dashboard: Dashboard;
  readonly hitRateAlarm: Alarm;
  readonly failedExecutionsAlarm: Alarm;
  readonly functionErrorsAlarm: Alarm;
  /** The dashboard in the CloudWatch console. */
  readonly dashboardUrl: string;

  constructor(scope: Construct, id: string, props: SessionCacheMonitoringProps) {
    super(scope, id);
    const { stateMachine } = props;
    const fiveMinutes = Duration.minutes(5);
    const fifteenMinutes = Duration.minutes(15);

    this.hitRateAlarm = new Alarm(this, 'SessionHitRateAlarm', {
      alarmDescription: `Fewer than ${HIT_RATE_THRESHOLD_PERCENT}% of AcquireSession calls found an idle pooled session over 15 minutes (windows with fewer than ${HIT_RATE_MIN_ACQUISITIONS} acquisitions are ignored). Check the keep-alive and idle timeout, the per-tenant cap, and SessionExpired/SessionInvalidated on the "${DASHBOARD_TITLE}" dashboard.`,
      metric: hitRate(
        allTenantsQuery('SessionHit', fifteenMinutes),
        allTenantsQuery('SessionMiss', fifteenMinutes),
        fifteenMinutes,
        true,
      ),
      threshold: HIT_RATE_THRESHOLD_PERCENT,
      comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 1,
      // No queries is not a bad hit rate.
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });

    this.failedExecutionsAlarm = new Alarm(this, 'FailedExecutionsAlarm', {
      alarmDescription:
        "Query executions failed in the last 5 minutes (SQL errors included). The execution's Error and Cause say why.",
      metric: stateMachine.metricFailed({ period: fiveMinutes, statistic: Stats.SUM }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });

    const functionEntries = Object.entries(props.functions);
    // One alarm over all functions (a math alarm takes up to 10 metrics): any function error is a
    // defect or an outage, and the per-function graph below says which.
    const errorsById = Object.fromEntries(
      functionEntries.map(([name, fn]) => [
        `e${name}`,
        fn.metricErrors({ period: fiveMinutes, statistic: Stats.SUM }),
      ]),
    );
    this.functionErrorsAlarm = new Alarm(this, 'FunctionErrorsAlarm', {
      alarmDescription:
        'A Spectra Lambda function reported errors in the last 5 minutes. The "Function errors" graph names the function; its log group has the stack trace.',
      metric: new MathExpression({
        expression: Object.keys(errorsById).join(' + '),
        usingMetrics: errorsById,
        label: 'Function errors (all functions)',
        period: fiveMinutes,
      }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });

    const alarms: IAlarm[] = [
      this.hitRateAlarm,
      this.failedExecutionsAlarm,
      this.functionErrorsAlarm,
    ];
    if (props.alarmTopicArn !== undefined) {
      const topic = Topic.fromTopicArn(this, 'AlarmTopic', props.alarmTopicArn);
      for (const alarm of [this.hitRateAlarm, this.failedExecutionsAlarm, this.functionErrorsAlarm])
        alarm.addAlarmAction(new SnsAction(topic));
    }

    const region = Stack.of(this).region;
    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName,
      defaultInterval: Duration.hours(3),
    });
    const sessionMetrics = [
      'SessionCreated',
      'SessionExpired',
      'SessionInvalidated',
      'SessionDiscarded',
      'SessionLimitReached',
    ];
    this.dashboard.addWidgets(
      new TextWidget({
        markdown: `# ${DASHBOARD_TITLE}\nHow often a query found an idle pooled Data API session (a hit) instead of opening one (a miss), per tenant; the sessions' life cycle; and the workflow's executions. Metrics: namespace \`${METRICS_NAMESPACE}\`, dimensions \`TenantId\` and \`service=${SERVICE_NAME}\`.`,
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Session hit rate, all tenants (%)',
        left: [
          hitRate(
            allTenants('SessionHit', fiveMinutes),
            allTenants('SessionMiss', fiveMinutes),
            fiveMinutes,
            false,
          ),
        ],
        leftYAxis: { min: 0, max: 100, showUnits: false },
        leftAnnotations: [{ value: HIT_RATE_THRESHOLD_PERCENT, label: 'Alarm threshold' }],
        width: 12,
      }),
      new GraphWidget({
        title: 'Session hits per tenant',
        left: [perTenant('SessionHit', fiveMinutes)],
        width: 6,
      }),
      new GraphWidget({
        title: 'Session misses per tenant',
        left: [perTenant('SessionMiss', fiveMinutes)],
        width: 6,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Session life cycle, all tenants',
        left: sessionMetrics.map((name) => allTenants(name, fiveMinutes)),
        width: 12,
      }),
      new GraphWidget({
        title: 'Sessions created per tenant',
        left: [perTenant('SessionCreated', fiveMinutes)],
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Executions',
        left: [
          stateMachine.metricStarted({
            period: fiveMinutes,
            statistic: Stats.SUM,
            label: 'Started',
          }),
          stateMachine.metricSucceeded({
            period: fiveMinutes,
            statistic: Stats.SUM,
            label: 'Succeeded',
          }),
          stateMachine.metricFailed({ period: fiveMinutes, statistic: Stats.SUM, label: 'Failed' }),
          stateMachine.metricAborted({
            period: fiveMinutes,
            statistic: Stats.SUM,
            label: 'Aborted',
          }),
          stateMachine.metricTimedOut({
            period: fiveMinutes,
            statistic: Stats.SUM,
            label: 'Timed out',
          }),
        ],
        width: 12,
      }),
      new GraphWidget({
        title: 'Execution time (ms)',
        left: [
          stateMachine.metricTime({ period: fiveMinutes, statistic: Stats.p(50), label: 'p50' }),
          stateMachine.metricTime({ period: fiveMinutes, statistic: Stats.p(90), label: 'p90' }),
        ],
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Function errors',
        left: functionEntries.map(([name, fn]) =>
          fn.metricErrors({ period: fiveMinutes, statistic: Stats.SUM, label: name }),
        ),
        width: 12,
      }),
      new GraphWidget({
        title: 'Function duration p90 (ms)',
        left: functionEntries.map(([name, fn]) =>
          fn.metricDuration({ period: fiveMinutes, statistic: Stats.p(90), label: name }),
        ),
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new SingleValueWidget({
        title: 'Session hit rate, last 15 minutes (%)',
        metrics: [
          hitRate(
            allTenants('SessionHit', fifteenMinutes),
            allTenants('SessionMiss', fifteenMinutes),
            fifteenMinutes,
            false,
          ),
        ],
        width: 8,
      }),
      new AlarmStatusWidget({ title: 'Alarms', alarms, width: 16 }),
    );
    this.dashboardUrl = `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards:name=${props.dashboardName}`;
  }
}
