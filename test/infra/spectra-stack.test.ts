import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Match } from 'aws-cdk-lib/assertions';
import type { IRole } from 'aws-cdk-lib/aws-iam';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../functions/common/config.ts';
import { FUNCTIONS, WORKFLOW_FUNCTIONS } from '../../functions/registry.ts';
import { placeholderOf, QUERY_DEFINITION_FILE } from '../../statemachine/definition.ts';
import {
  CLUSTER,
  logicalIdOf,
  type PolicyStatementJson,
  policyStatements,
  render,
  statementsAllowing,
  synthesize,
} from './synth.ts';

// GIVEN a deployment on a provisioned cluster with per-tenant database users (synthesized once for
// the whole file: every test below reads the same template)
const { stack, template } = synthesize({
  clusterIdentifier: 'analytics',
  keepAliveSeconds: '1800',
});

/** lib-dynamodb commands whose IAM action ends in "Item" (GetCommand is dynamodb:GetItem). */
const DYNAMODB_ITEM_COMMANDS = new Set([
  'Get',
  'Put',
  'Update',
  'Delete',
  'BatchGet',
  'BatchWrite',
]);

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The project's source files in a function's bundle, as esbuild resolves its imports: what the
 * function can call, and nothing another function pulls in.
 */
async function sourcesOf(entry: string): Promise<string[]> {
  const result = await build({
    entryPoints: [entry],
    absWorkingDir: repoRoot,
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    format: 'esm',
    outdir: 'out',
    // Dependencies are not read: only the project's files name the SDK commands it sends.
    packages: 'external',
    logLevel: 'silent',
  });
  return Object.keys(result.metafile.inputs);
}

/**
 * The IAM actions of the AWS calls made through one SDK package in `files`: the commands and
 * paginators they import from it (Biome refuses unused imports, so an import is a call).
 */
function awsCallsIn(
  files: Iterable<string>,
  sdkPackage: string,
  actionOf: (command: string) => string,
): Set<string> {
  const imports = new RegExp(`import\\s*\\{([^}]*)\\}\\s*from\\s*'${sdkPackage}'`, 'g');
  const actions = new Set<string>();
  for (const file of files) {
    const source = readFileSync(join(repoRoot, file), 'utf8');
    for (const [, names = ''] of source.matchAll(imports)) {
      for (const name of names.split(',').map((entry) => entry.trim())) {
        const command = /^(?:(\w+)Command|paginate(\w+))$/.exec(name);
        const call = command?.[1] ?? command?.[2];
        if (call !== undefined) actions.add(actionOf(call));
      }
    }
  }
  return actions;
}

const dynamodbAction = (command: string) =>
  DYNAMODB_ITEM_COMMANDS.has(command) ? `dynamodb:${command}Item` : `dynamodb:${command}`;
const redshiftDataAction = (command: string) => `redshift-data:${command}`;

type FunctionResource = {
  Properties: {
    Runtime: string;
    Architectures: string[];
    Timeout: number;
    Role: unknown;
    Environment: { Variables: Record<string, unknown> };
    LoggingConfig: { LogGroup: unknown };
    TracingConfig: { Mode: string };
  };
};

const functionResource = (name: string) => {
  const id = logicalIdOf(stack.functions[name as keyof typeof stack.functions]);
  return template.toJSON().Resources[id] as FunctionResource;
};

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

  describe('Sessions table', () => {
    it('is on-demand, keyed by pool and session, with TTL on ttl, PITR and KMS encryption', () => {
      // THEN the table matches the session store's item shape and is protected
      template.resourceCountIs('AWS::DynamoDB::Table', 1);
      template.hasResourceProperties('AWS::DynamoDB::Table', {
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [
          { AttributeName: 'pool_id', KeyType: 'HASH' },
          { AttributeName: 'session_id', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: Match.arrayWith([
          { AttributeName: 'pool_id', AttributeType: 'S' },
          { AttributeName: 'session_id', AttributeType: 'S' },
        ]),
        TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        // SSEEnabled without a key: KMS with the AWS managed key aws/dynamodb.
        SSESpecification: { SSEEnabled: true },
      });
    });

    it('is retained, and protected from deletion, by default', () => {
      template.hasResource('AWS::DynamoDB::Table', {
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
        Properties: Match.objectLike({ DeletionProtectionEnabled: true }),
      });
    });
  });

  describe('Results bucket', () => {
    const bucketId = () => logicalIdOf(stack.resultsBucket);

    it('is private, encrypted and expires results after resultRetentionDays (default 7), as expiresAt says', () => {
      template.hasResourceProperties('AWS::S3::Bucket', {
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
          ],
        },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        LifecycleConfiguration: {
          Rules: [
            {
              Id: 'ExpireResults',
              Prefix: 'results/',
              Status: 'Enabled',
              ExpirationInDays: 7,
              AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
            },
          ],
        },
      });
      expect(loadConfig({ SPECTRA_REDSHIFT_CLUSTER_IDENTIFIER: 'x' }).resultRetentionDays).toBe(7);
    });

    it('refuses every request that is not over TLS, in its bucket policy', () => {
      const policies = template.findResources('AWS::S3::BucketPolicy');
      const [policy] = Object.values(policies) as {
        Properties: { Bucket: unknown; PolicyDocument: { Statement: PolicyStatementJson[] } };
      }[];
      expect(render(policy?.Properties.Bucket)).toBe(`<${bucketId()}>`);
      expect(policy?.Properties.PolicyDocument.Statement).toEqual([
        {
          Effect: 'Deny',
          Principal: { AWS: '*' },
          Action: 's3:*',
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          Resource: [
            { 'Fn::GetAtt': [bucketId(), 'Arn'] },
            { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId(), 'Arn'] }, '/*']] },
          ],
        },
      ]);
    });

    it('lets the functions write only under results/, and read nothing there', () => {
      const s3 = policyStatements(template).filter((entry) =>
        entry.actions.some((action) => action.startsWith('s3:')),
      );
      expect(
        s3.map((entry) => [entry.roles, entry.actions.sort(), entry.resources.map(render)]),
      ).toEqual([
        [
          [logicalIdOf(stack.dataApiRole)],
          ['s3:AbortMultipartUpload', 's3:PutObject'],
          [`<${bucketId()}.Arn>/results/*`],
        ],
      ]);
      expect(functionResource('FetchResults').Properties.Environment.Variables).toEqual(
        expect.objectContaining({
          SPECTRA_RESULTS_BUCKET_NAME: { Ref: bucketId() },
          SPECTRA_RESULT_RETENTION_DAYS: '7',
        }),
      );
    });

    it('keeps a retention and a KMS key when the deployment gives them', () => {
      const keyArn = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
      const custom = synthesize({ ...CLUSTER, resultRetentionDays: '30', resultsKeyArn: keyArn });
      custom.template.hasResourceProperties('AWS::S3::Bucket', {
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            {
              BucketKeyEnabled: true,
              ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyArn },
            },
          ],
        },
        LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 30 })] },
      });
      expect(
        statementsAllowing(custom.template, 'kms:GenerateDataKey')[0]?.resources.map(render),
      ).toEqual([keyArn]);
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

  describe('IAM', () => {
    const dataApiRoleId = logicalIdOf(stack.dataApiRole);
    /** The source files of each function's bundle, by function name. */
    const sources = new Map<string, string[]>();
    beforeAll(async () => {
      for (const fn of FUNCTIONS) sources.set(fn.name, await sourcesOf(fn.entry));
    });

    /** The source files of every function that runs as `role`. */
    function sourcesOfRole(role: IRole): Set<string> {
      const arn = `<${logicalIdOf(role)}.Arn>`;
      const files = new Set<string>();
      for (const fn of FUNCTIONS) {
        if (render(functionResource(fn.name).Properties.Role) !== arn) continue;
        for (const file of sources.get(fn.name) ?? []) files.add(file);
      }
      return files;
    }

    it('runs every Data API caller as one role, and the others as a role without Data API access', () => {
      // THEN SubmitQuery, PollStatus, FetchResults and CancelStoppedExecution share the Data API role
      for (const name of ['SubmitQuery', 'PollStatus', 'FetchResults', 'CancelStoppedExecution']) {
        expect(render(functionResource(name).Properties.Role)).toBe(`<${dataApiRoleId}.Arn>`);
      }
      // AND no other role may touch the Data API
      const dataApiStatements = policyStatements(template).filter((entry) =>
        entry.actions.some((action) => action.startsWith('redshift')),
      );
      expect(dataApiStatements.length).toBeGreaterThan(0);
      for (const entry of dataApiStatements) expect(entry.roles).toEqual([dataApiRoleId]);
    });

    it('never grants ExecuteStatement or a DynamoDB action on "*"', () => {
      // WHEN the statements for ExecuteStatement and DynamoDB are collected
      const scoped = policyStatements(template).filter((entry) =>
        entry.actions.some(
          (action) => action === 'redshift-data:ExecuteStatement' || action.startsWith('dynamodb:'),
        ),
      );
      // THEN each names resources, never "*"
      expect(scoped.length).toBeGreaterThan(0);
      for (const entry of scoped) {
        for (const resource of entry.resources) expect(render(resource)).not.toBe('*');
      }
      expect(
        statementsAllowing(template, 'redshift-data:ExecuteStatement')[0]?.resources.map(render),
      ).toEqual(['arn:<AWS::Partition>:redshift:<AWS::Region>:<AWS::AccountId>:cluster:analytics']);
    });

    it("grants each role exactly the DynamoDB actions its functions' code calls, on the table only", () => {
      // GIVEN the table's ARN
      const tableArn = `<${logicalIdOf(stack.table)}.Arn>`;
      const dynamo = policyStatements(template).filter((entry) =>
        entry.actions.some((action) => action.startsWith('dynamodb:')),
      );
      for (const role of [stack.dataApiRole, stack.sessionStoreRole]) {
        // WHEN the DynamoDB calls in the code of the role's functions are collected
        const used = awsCallsIn(sourcesOfRole(role), '@aws-sdk/lib-dynamodb', dynamodbAction);
        expect(used).toContain('dynamodb:Query');
        // THEN the role is granted those actions, on the table and nothing else
        const granted = dynamo.filter((entry) => entry.roles.includes(logicalIdOf(role)));
        expect(new Set(granted.flatMap((entry) => entry.actions))).toEqual(used);
        for (const entry of granted) expect(entry.resources.map(render)).toEqual([tableArn]);
      }
    });

    it('grants the Scan of the scheduled clean-up to its role only', () => {
      // THEN only SessionStoreRole (CleanupSessions) may scan the table
      const scanning = statementsAllowing(template, 'dynamodb:Scan').flatMap((e) => e.roles);
      expect(scanning).toEqual([logicalIdOf(stack.sessionStoreRole)]);
      expect(sourcesOfRole(stack.dataApiRole)).not.toContain('functions/common/session-sweeper.ts');
    });

    it("grants the Data API role exactly the Data API actions its functions' code calls", () => {
      // GIVEN the Data API calls in the code of the Data API role's functions (the other role's
      // functions bundle the Data API wrapper through their deps, but have no grant to use it)
      const used = awsCallsIn(
        sourcesOfRole(stack.dataApiRole),
        '@aws-sdk/client-redshift-data',
        redshiftDataAction,
      );
      expect(used).toContain('redshift-data:ExecuteStatement');
      // WHEN the granted Data API actions are collected
      const granted = new Set(
        policyStatements(template)
          .flatMap((entry) => entry.actions)
          .filter((action) => action.startsWith('redshift-data:')),
      );
      // THEN they are the same, no more
      expect(granted).toEqual(used);
    });

    it('lets the role read and cancel only statements the role itself ran', () => {
      // THEN the statement-id actions carry the statement-owner condition on this role's id
      const [entry] = statementsAllowing(template, 'redshift-data:DescribeStatement');
      expect(entry?.actions.sort()).toEqual([
        'redshift-data:CancelStatement',
        'redshift-data:DescribeStatement',
        'redshift-data:GetStatementResult',
      ]);
      expect(
        render(
          entry?.statement.Condition?.StringLike?.['redshift-data:statement-owner-iam-userid'],
        ),
      ).toBe(`<${dataApiRoleId}.RoleId>:*`);
    });

    it("gets temporary credentials only for the tenants' database users of this cluster", () => {
      const [entry] = statementsAllowing(template, 'redshift:GetClusterCredentials');
      expect(entry?.resources.map(render)).toEqual([
        'arn:<AWS::Partition>:redshift:<AWS::Region>:<AWS::AccountId>:dbuser:analytics/tenant_*',
        'arn:<AWS::Partition>:redshift:<AWS::Region>:<AWS::AccountId>:dbname:analytics/dev',
      ]);
      expect(statementsAllowing(template, 'secretsmanager:GetSecretValue')).toEqual([]);
    });

    it("lets CancelStoppedExecution read the history of this state machine's executions only", () => {
      const [entry] = statementsAllowing(template, 'states:GetExecutionHistory');
      expect(entry?.roles).toEqual([dataApiRoleId]);
      expect(entry?.resources.map(render)).toEqual([
        `arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:<${logicalIdOf(stack.stateMachine)}.Name>:*`,
      ]);
    });

    it('attaches no AWS managed policy to any role', () => {
      for (const role of Object.values(template.findResources('AWS::IAM::Role'))) {
        expect(role.Properties.ManagedPolicyArns).toBeUndefined();
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

    it('graphs hits and misses per tenant as Powertools emits them, and the hit rate', () => {
      // THEN the SEARCH matches the EMF dimension set [service, TenantId] of namespace Spectra
      for (const metric of [
        'SessionHit',
        'SessionMiss',
        'SessionCreated',
        'SessionExpired',
        'SessionInvalidated',
      ]) {
        expect(body).toContain(
          `SEARCH('{Spectra,TenantId,service} MetricName=\\"${metric}\\" service=\\"spectra\\"', 'Sum', 300)`,
        );
      }
      expect(body).toContain('100 * hits / (hits + misses)');
    });

    it('graphs executions started, succeeded and failed, and execution time p50 and p90', () => {
      for (const metric of [
        'ExecutionsStarted',
        'ExecutionsSucceeded',
        'ExecutionsFailed',
        'ExecutionTime',
      ]) {
        expect(body).toContain(`"AWS/States","${metric}"`);
      }
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
