import { readFileSync } from 'node:fs';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../functions/common/config.ts';
import { FUNCTIONS, WORKFLOW_FUNCTIONS } from '../../functions/registry.ts';
import { placeholderOf, QUERY_DEFINITION_FILE } from '../../statemachine/definition.ts';
import { logicalIdOf, render, statementsAllowing, synthesizeSpectraStack } from './synth.ts';

/** The synthesized SpectraStack: its functions, state machine, clean-up rules and observability. */

// GIVEN a deployment on a provisioned cluster with per-tenant database users (synthesized once for
// the whole file: every test below reads the same template)
const { stack, template, functionResource } = synthesizeSpectraStack();

describe('Stack: SpectraStack', () => {
  describe('Lambda functions', () => {
    it('deploys one function per catalog entry, on nodejs22.x and ARM64', () => {
      // WHEN the stack is synthesized (above)
      // THEN there is a function for every workflow step and maintenance job
      template.resourceCountIs('AWS::Lambda::Function', FUNCTIONS.length);
      template.allResourcesProperties('AWS::Lambda::Function', {
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        TracingConfig: { Mode: 'Active' },
      });
    });

    it('gives SubmitQuery and PollStatus at least 60 s for their long-polls', () => {
      // THEN both outlast a 30 s server-side wait with margin
      for (const name of ['SubmitQuery', 'PollStatus']) {
        expect(functionResource(name).Properties.Timeout).toBeGreaterThanOrEqual(60);
      }
    });

    it('sets source maps and the Powertools settings on every function', () => {
      // THEN the variables are there for every function
      template.allResourcesProperties('AWS::Lambda::Function', {
        Environment: {
          Variables: Match.objectLike({
            NODE_OPTIONS: '--enable-source-maps',
            POWERTOOLS_SERVICE_NAME: 'spectra',
            POWERTOOLS_LOG_LEVEL: 'INFO',
            POWERTOOLS_METRICS_NAMESPACE: 'Spectra',
          }),
        },
      });
    });

    it('hands every function a configuration its own start-up check accepts', () => {
      for (const fn of FUNCTIONS) {
        // GIVEN the environment CloudFormation will set (the table name is known only then)
        const variables = Object.fromEntries(
          Object.entries(functionResource(fn.name).Properties.Environment.Variables).map(
            ([name, value]) => [name, typeof value === 'string' ? value : 'spectra-sessions-x1'],
          ),
        );
        // WHEN the function loads its configuration
        const config = loadConfig(variables);
        // THEN it starts, with the deployment's parameters
        expect(config.target).toEqual({ clusterIdentifier: 'analytics' });
        expect(config.sessionKeepAliveSeconds).toBe(1800);
        expect(variables.SPECTRA_DYNAMODB_SESSIONS_TABLE_NAME).toBe('spectra-sessions-x1');
      }
    });

    it('gives every function a log group of its own, with a retention', () => {
      // THEN 8 function log groups and the state machine's, each kept 30 days
      template.resourceCountIs('AWS::Logs::LogGroup', FUNCTIONS.length + 1);
      template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
      const logGroups = FUNCTIONS.map((fn) =>
        render(functionResource(fn.name).Properties.LoggingConfig.LogGroup),
      );
      expect(new Set(logGroups).size).toBe(FUNCTIONS.length);
    });
  });

  describe('State machine', () => {
    it('is a Standard workflow with X-Ray tracing and logs without execution data', () => {
      template.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
      template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
        StateMachineType: 'STANDARD',
        TracingConfiguration: { Enabled: true },
        LoggingConfiguration: {
          Level: 'ALL',
          IncludeExecutionData: false,
          Destinations: [
            {
              CloudWatchLogsLogGroup: {
                LogGroupArn: Match.objectLike({ 'Fn::GetAtt': Match.anyValue() }),
              },
            },
          ],
        },
      });
    });

    it('runs statemachine/query.asl.json with each placeholder replaced by its function’s ARN', () => {
      // GIVEN the definition file, each ${<Name>FunctionArn} replaced by that function's ARN
      const arnOf = (name: string) =>
        `<${logicalIdOf(stack.functions[name as keyof typeof stack.functions])}.Arn>`;
      let expectedText = readFileSync(QUERY_DEFINITION_FILE, 'utf8');
      for (const fn of WORKFLOW_FUNCTIONS) {
        expectedText = expectedText.replaceAll(`\${${placeholderOf(fn.name)}}`, arnOf(fn.name));
      }
      // WHEN the synthesized DefinitionString (an Fn::Join of text and Fn::GetAtt) is read back
      const [resource] = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
      const definitionString = resource?.Properties.DefinitionString;
      expect(definitionString).toHaveProperty('Fn::Join');
      const definitionText = render(definitionString);
      // THEN it is the file, ARNs substituted, and no placeholder is left
      expect(definitionText).not.toContain('${');
      expect(JSON.parse(definitionText)).toEqual(JSON.parse(expectedText));
      expect(resource?.Properties.DefinitionSubstitutions).toBeUndefined();
    });

    it('may invoke each workflow function, and nothing else', () => {
      // THEN the state machine's role has one lambda:InvokeFunction grant per workflow function
      const invokes = statementsAllowing(template, 'lambda:InvokeFunction');
      const targets = invokes.flatMap((entry) => entry.resources.map(render));
      for (const fn of WORKFLOW_FUNCTIONS) {
        expect(targets).toContain(`<${logicalIdOf(stack.functions[fn.name])}.Arn>`);
      }
      for (const fn of FUNCTIONS.filter((each) => each.trigger !== 'workflow')) {
        expect(targets.join(' ')).not.toContain(logicalIdOf(stack.functions[fn.name]));
      }
    });
  });

  describe('Clean-up', () => {
    it('runs CleanupSessions every 15 minutes', () => {
      template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: 'rate(15 minutes)',
        Targets: [
          Match.objectLike({
            Arn: { 'Fn::GetAtt': [logicalIdOf(stack.functions.CleanupSessions), 'Arn'] },
          }),
        ],
      });
      template.hasResourceProperties('AWS::Lambda::Permission', {
        Action: 'lambda:InvokeFunction',
        Principal: 'events.amazonaws.com',
        FunctionName: { 'Fn::GetAtt': [logicalIdOf(stack.functions.CleanupSessions), 'Arn'] },
      });
    });

    it("hands this state machine's failed, aborted and timed-out executions to CancelStoppedExecution", () => {
      template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: {
          source: ['aws.states'],
          'detail-type': ['Step Functions Execution Status Change'],
          detail: {
            status: ['FAILED', 'ABORTED', 'TIMED_OUT'],
            stateMachineArn: [{ Ref: logicalIdOf(stack.stateMachine) }],
          },
        },
        Targets: [
          Match.objectLike({
            Arn: { 'Fn::GetAtt': [logicalIdOf(stack.functions.CancelStoppedExecution), 'Arn'] },
          }),
        ],
      });
    });
  });

  describe('Observability', () => {
    const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
    const body = render(dashboard?.Properties.DashboardBody);

    it('has a "Session Cache Performance" dashboard', () => {
      template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
      expect(dashboard?.Properties.DashboardName).toBe('SpectraTest-Session-Cache-Performance');
      expect(body).toContain('# Session Cache Performance');
    });

    // The SEARCH matches the EMF dimension set [service, TenantId] of namespace Spectra.
    it.each([
      'SessionHit',
      'SessionMiss',
      'SessionCreated',
      'SessionExpired',
      'SessionInvalidated',
    ])('graphs %s per tenant as Powertools emits it', (metric) => {
      expect(body).toContain(
        `SEARCH('{Spectra,TenantId,service} MetricName=\\"${metric}\\" service=\\"spectra\\"', 'Sum', 300)`,
      );
    });

    it('graphs the hit rate from the hits and misses', () => {
      expect(body).toContain('100 * hits / (hits + misses)');
    });

    it.each(['ExecutionsStarted', 'ExecutionsSucceeded', 'ExecutionsFailed', 'ExecutionTime'])(
      "graphs the state machine's %s",
      (metric) => {
        expect(body).toContain(`"AWS/States","${metric}"`);
      },
    );

    it('graphs execution time p50 and p90', () => {
      expect(body).toContain('"stat":"p50"');
      expect(body).toContain('"stat":"p90"');
    });

    it('alarms when the hit rate is under 90% over 15 minutes', () => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        ComparisonOperator: 'LessThanThreshold',
        Threshold: 90,
        EvaluationPeriods: 1,
        TreatMissingData: 'notBreaching',
        Metrics: Match.arrayWith([
          Match.objectLike({
            Id: 'hits',
            Period: 900,
            Expression: `SELECT SUM(SessionHit) FROM SCHEMA("Spectra", TenantId, service) WHERE service = 'spectra'`,
          }),
          Match.objectLike({ Id: 'misses', Period: 900 }),
        ]),
      });
    });

    it('alarms on failed executions and on any function error', () => {
      template.resourceCountIs('AWS::CloudWatch::Alarm', 3);
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/States',
        MetricName: 'ExecutionsFailed',
        Threshold: 1,
      });
      const [errors] = Object.values(
        template.findResources('AWS::CloudWatch::Alarm', {
          Properties: {
            AlarmDescription: Match.stringLikeRegexp('Lambda function reported errors'),
          },
        }),
      );
      const metrics = (errors?.Properties.Metrics ?? []) as {
        MetricStat?: { Metric: { MetricName: string } };
      }[];
      const summed = metrics.filter((metric) => metric.MetricStat?.Metric.MetricName === 'Errors');
      expect(summed).toHaveLength(FUNCTIONS.length);
    });

    it('outputs the state machine ARN, the table name and the dashboard URL', () => {
      template.hasOutput('StateMachineArn', { Value: { Ref: logicalIdOf(stack.stateMachine) } });
      template.hasOutput('SessionsTableName', { Value: { Ref: logicalIdOf(stack.table) } });
      const outputs = template.findOutputs('DashboardUrl');
      expect(render(outputs.DashboardUrl?.Value)).toBe(
        'https://<AWS::Region>.console.aws.amazon.com/cloudwatch/home?region=<AWS::Region>#dashboards:name=SpectraTest-Session-Cache-Performance',
      );
    });
  });
});
