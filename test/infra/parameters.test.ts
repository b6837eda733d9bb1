import { App, RemovalPolicy } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { LogLevel } from 'aws-cdk-lib/aws-stepfunctions';
import { describe, expect, it } from 'vitest';
import { CONFIG_SETTINGS, type IntegerSetting } from '../../functions/common/config-table.ts';
import {
  resolveSettings,
  SpectraParameterError,
  type SpectraParameterInput,
} from '../../infra/parameters.ts';
import { SpectraStack } from '../../infra/spectra-stack.ts';
import { SECRET_ARN, synthesize } from './synth.ts';

/** Builds the stack with the parameters as CDK context, as `cdk synth -c name=value` passes them. */
function synthWithContext(context: Record<string, string>) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [], ...context } });
  return new SpectraStack(app, 'SpectraTest');
}

describe('Parameters', () => {
  describe('Function: resolveSettings', () => {
    it('applies the documented defaults', () => {
      // GIVEN only a cluster
      // WHEN the settings are resolved
      const settings = resolveSettings({ clusterIdentifier: 'analytics' });
      // THEN everything else has its default
      expect(settings.config).toEqual(
        expect.objectContaining({
          target: { clusterIdentifier: 'analytics' },
          database: 'dev',
          secretArn: undefined,
          sessionKeepAliveSeconds: 3600,
          sessionIdleTimeoutSeconds: 300,
          maxSessionsPerTenant: 4,
          maxSessionsTotal: 400,
          dbUserTemplate: 'tenant_{tenant}',
          deniedDbUsers: [],
          queryTimeoutSeconds: 3600,
          logSql: false,
        }),
      );
      expect(settings).toEqual(
        expect.objectContaining({
          logLevel: 'INFO',
          logRetention: RetentionDays.ONE_MONTH,
          removalPolicy: RemovalPolicy.RETAIN,
          stateMachineLogLevel: LogLevel.ALL,
          includeExecutionData: false,
          alarmTopicArn: undefined,
        }),
      );
    });

    it('reads the text values `-c` passes, case-insensitively where that is natural', () => {
      const settings = resolveSettings({
        workgroupName: 'analytics-wg',
        keepAliveSeconds: '7200',
        idleTimeoutSeconds: '600',
        maxSessionsPerTenant: '8',
        maxSessionsTotal: '120',
        acquireWaitMilliseconds: '250',
        queryTimeoutSeconds: '21600',
        logLevel: 'debug',
        logRetentionDays: '90',
        removalPolicy: 'DESTROY',
        stateMachineLogLevel: 'error',
        includeExecutionData: 'TRUE',
      });
      expect(settings.config.sessionKeepAliveSeconds).toBe(7200);
      expect(settings.environment).toEqual(
        expect.objectContaining({
          SPECTRA_REDSHIFT_WORKGROUP_NAME: 'analytics-wg',
          SPECTRA_REDSHIFT_SESSION_KEEP_ALIVE_SECONDS: '7200',
          SPECTRA_REDSHIFT_SESSION_IDLE_TIMEOUT_SECONDS: '600',
          SPECTRA_MAX_SESSIONS_PER_TENANT: '8',
          SPECTRA_MAX_SESSIONS_TOTAL: '120',
          SPECTRA_ACQUIRE_WAIT_MILLISECONDS: '250',
          SPECTRA_QUERY_TIMEOUT_SECONDS: '21600',
        }),
      );
      expect(settings.logLevel).toBe('DEBUG');
      expect(settings.logRetention).toBe(RetentionDays.THREE_MONTHS);
      expect(settings.removalPolicy).toBe(RemovalPolicy.DESTROY);
      expect(settings.stateMachineLogLevel).toBe(LogLevel.ERROR);
      expect(settings.includeExecutionData).toBe(true);
    });
    it.each(
      CONFIG_SETTINGS.filter(
        (setting): setting is IntegerSetting =>
          setting.kind === 'integer' && setting.parameter !== undefined,
      ),
    )('passes $parameter on to the functions as $variable', (setting) => {
      // GIVEN the parameter the README's configuration table names, at the top of its range
      const input = { clusterIdentifier: 'analytics', [setting.parameter as string]: setting.max };
      // WHEN the settings are resolved
      const settings = resolveSettings(input);
      // THEN the functions get that value in the setting's variable
      expect(settings.environment[setting.variable]).toBe(String(setting.max));
    });
  });

  describe('Stack: SpectraStack', () => {
    it.each<[string, Record<string, string>, RegExp]>([
      [
        'neither a cluster nor a workgroup',
        {},
        /Missing Spectra parameter: set clusterIdentifier .* or workgroupName .*; neither is set/,
      ],
      [
        'both a cluster and a workgroup',
        { clusterIdentifier: 'analytics', workgroupName: 'analytics-wg' },
        /Contradictory Spectra parameters: clusterIdentifier \("analytics"\) and workgroupName \("analytics-wg"\) are both set/,
      ],
      [
        'a keep-alive of 0',
        { clusterIdentifier: 'analytics', keepAliveSeconds: '0' },
        /Invalid Spectra parameter "keepAliveSeconds".*SPECTRA_REDSHIFT_SESSION_KEEP_ALIVE_SECONDS must be from 1 to 86400; got 0/,
      ],
      [
        'a keep-alive of 90000',
        { clusterIdentifier: 'analytics', keepAliveSeconds: '90000' },
        /Invalid Spectra parameter "keepAliveSeconds".*must be from 1 to 86400; got 90000/,
      ],
      [
        'a removal policy CloudFormation cannot apply to a table',
        { clusterIdentifier: 'analytics', removalPolicy: 'snapshot' },
        /Invalid Spectra parameter "removalPolicy".*must be one of retain, destroy; got "snapshot"/,
      ],
      [
        'a workgroup id without a workgroup',
        { clusterIdentifier: 'analytics', workgroupId: '3f1b2c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d' },
        /Contradictory Spectra parameters: workgroupId .* is set but workgroupName is not/,
      ],
      [
        'a workgroup id that is not an id',
        { workgroupName: 'analytics-wg', workgroupId: 'analytics-wg' },
        /Invalid Spectra parameter "workgroupId".*must be the workgroup's id, a UUID/,
      ],
      [
        'a secret that is not a secret ARN',
        { clusterIdentifier: 'analytics', secretArn: 'spectra/redshift' },
        /Invalid Spectra parameter "secretArn".*SPECTRA_REDSHIFT_SECRET_ARN must be a Secrets Manager secret ARN/,
      ],
      [
        'a db user template without the tenant',
        { clusterIdentifier: 'analytics', dbUserTemplate: 'reporting' },
        /Invalid Spectra parameter "dbUserTemplate".*must contain "\{tenant\}"/,
      ],
      [
        'a db user template without a fixed part',
        { clusterIdentifier: 'analytics', dbUserTemplate: '{tenant}' },
        /Invalid Spectra parameter "dbUserTemplate" \(the database user of a tenant, with a fixed part, default tenant_\{tenant\}\): SPECTRA_DB_USER_TEMPLATE must contain "\{tenant\}" once .*a fixed part of at least 2 characters.*; got "\{tenant\}" \(no fixed part/,
      ],
      [
        'a denied db user that is no user name',
        { clusterIdentifier: 'analytics', deniedDbUsers: 'ops admin' },
        /Invalid Spectra parameter "deniedDbUsers".*SPECTRA_DENIED_DB_USERS must be a comma-separated list of database user names/,
      ],
      [
        'a log-SQL flag that is not true or false',
        { clusterIdentifier: 'analytics', logSql: 'on' },
        /Invalid Spectra parameter "logSql".*SPECTRA_LOG_SQL must be true or false; got "on"/,
      ],
      [
        'an upper-case cluster identifier',
        { clusterIdentifier: 'Analytics' },
        /Invalid Spectra parameter "clusterIdentifier".*must be a cluster identifier/,
      ],
      [
        'a log level Powertools does not know',
        { clusterIdentifier: 'analytics', logLevel: 'VERBOSE' },
        /Invalid Spectra parameter "logLevel".*must be one of TRACE, DEBUG, INFO, WARN, ERROR, CRITICAL, SILENT; got "VERBOSE"/,
      ],
      [
        'a log retention CloudWatch Logs does not offer',
        { clusterIdentifier: 'analytics', logRetentionDays: '10' },
        /Invalid Spectra parameter "logRetentionDays".*got "10"/,
      ],
      [
        'a poll wait over the Data API maximum',
        { clusterIdentifier: 'analytics', pollWaitSeconds: '45' },
        /Invalid Spectra parameter "pollWaitSeconds".*SPECTRA_POLL_WAIT_SECONDS must be from 0 to 30; got 45/,
      ],
      [
        'a query timeout past the 24 hours the Data API runs a statement',
        { clusterIdentifier: 'analytics', queryTimeoutSeconds: '90000' },
        /Invalid Spectra parameter "queryTimeoutSeconds".*SPECTRA_QUERY_TIMEOUT_SECONDS must be from 1 to 86400; got 90000/,
      ],
      [
        'an acquire wait longer than AcquireSession can afford',
        { clusterIdentifier: 'analytics', acquireWaitMilliseconds: '30000' },
        /Invalid Spectra parameter "acquireWaitMilliseconds".*SPECTRA_ACQUIRE_WAIT_MILLISECONDS must be from 0 to 10000; got 30000/,
      ],
      [
        'a flag that is not true or false',
        { clusterIdentifier: 'analytics', includeExecutionData: 'yes' },
        /Invalid Spectra parameter "includeExecutionData".*must be true or false; got "yes"/,
      ],
    ])('fails the synth, saying why, on %s', (_case, context, message) => {
      // GIVEN the parameters as `cdk synth -c` passes them
      // WHEN the stack is built
      // THEN it refuses, naming the parameter and the problem
      expect(() => synthWithContext(context)).toThrow(SpectraParameterError);
      expect(() => synthWithContext(context)).toThrow(message);
    });

    it('lets the stack props override the context', () => {
      // GIVEN a workgroup in the context and a cluster in the props
      const app = new App({
        context: { 'aws:cdk:bundling-stacks': [], clusterIdentifier: 'from-context' },
      });
      // WHEN the stack is built
      const stack = new SpectraStack(app, 'SpectraTest', {
        parameters: { clusterIdentifier: 'from-props', secretArn: SECRET_ARN },
      });
      // THEN the props win
      expect(stack.settings.config.target).toEqual({ clusterIdentifier: 'from-props' });
      expect(stack.settings.config.secretArn).toBe(SECRET_ARN);
    });

    it('destroys the table and the logs with the stack when asked to', () => {
      // GIVEN removalPolicy=destroy, as for a test environment
      const parameters: SpectraParameterInput = {
        clusterIdentifier: 'analytics',
        removalPolicy: 'destroy',
      };
      // WHEN the stack is synthesized
      const { template } = synthesize(parameters);
      // THEN the table goes with the stack, unprotected, and so do the log groups
      template.hasResource('AWS::DynamoDB::Table', {
        DeletionPolicy: 'Delete',
        Properties: Match.objectLike({ DeletionProtectionEnabled: false }),
      });
      for (const logGroup of Object.values(template.findResources('AWS::Logs::LogGroup'))) {
        expect(logGroup.DeletionPolicy).toBe('Delete');
      }
    });

    it('logs execution data only when asked to', () => {
      const { template } = synthesize({
        clusterIdentifier: 'analytics',
        includeExecutionData: 'true',
        stateMachineLogLevel: 'ERROR',
      });
      template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
        LoggingConfiguration: Match.objectLike({ Level: 'ERROR', IncludeExecutionData: true }),
      });
    });
  });
});
