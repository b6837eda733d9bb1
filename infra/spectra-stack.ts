import {
  ArnFormat,
  type CfnElement,
  CfnOutput,
  Duration,
  RemovalPolicy,
  Stack,
  type StackProps,
  Validations,
} from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Policy, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import {
  DefinitionBody,
  LogLevel,
  StateMachine,
  StateMachineType,
} from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct, IConstruct } from 'constructs';
import { CONFIG_VARIABLES } from '../functions/common/config.ts';
import { RESULTS_PREFIX } from '../functions/common/result-store.ts';
import { FUNCTIONS, type FunctionName, WORKFLOW_FUNCTIONS } from '../functions/registry.ts';
import { loadDefinition } from '../statemachine/definition.ts';
import { grantDataApiAccess } from './constructs/data-api-access.ts';
import { SessionCacheMonitoring } from './constructs/session-cache-monitoring.ts';
import { SpectraFunction } from './constructs/spectra-function.ts';
import {
  readContextParameters,
  resolveSettings,
  type SpectraParameterInput,
  type SpectraSettings,
} from './parameters.ts';

/**
 * The DynamoDB calls functions/common/session-store.ts makes, and no others (a test reads each
 * role's from the code its functions bundle): Query lists a pool, GetItem reads a stopped
 * execution's mark, PutItem records a new session or a mark, UpdateItem leases, renews and
 * releases, DeleteItem drops a session. Both roles get them: which step calls which method of the
 * store changes with the workflow, while the resource, the one table, is what bounds the access.
 */
const TABLE_ACTIONS = [
  'dynamodb:Query',
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
] as const;

/** The scheduled clean-up reads the whole table (functions/common/session-sweeper.ts). */
const SWEEP_ACTIONS = ['dynamodb:Scan'] as const;

export interface SpectraStackProps extends StackProps {
  /** Deployment parameters; each overrides the CDK context value of the same name. */
  readonly parameters?: SpectraParameterInput;
}

/**
 * Spectra on AWS: the query state machine, its Lambda functions, the sessions table, the cleanup
 * schedule, the clean-up of stopped executions, and the session cache's dashboard and alarms.
 */
export class SpectraStack extends Stack {
  readonly settings: SpectraSettings;
  readonly table: Table;
  readonly resultsBucket: Bucket;
  readonly stateMachine: StateMachine;
  readonly functions: Record<FunctionName, SpectraFunction>;
  readonly dataApiRole: Role;
  readonly sessionStoreRole: Role;
  readonly monitoring: SessionCacheMonitoring;

  constructor(scope: Construct, id: string, props: SpectraStackProps = {}) {
    super(scope, id, props);
    const settings = resolveSettings({ ...readContextParameters(this.node), ...props.parameters });
    this.settings = settings;

    this.table = new Table(this, 'SessionsTable', {
      // One partition per (tenant, db user) pool: a pool is one strongly consistent Query.
      partitionKey: { name: 'pool_id', type: AttributeType.STRING },
      sortKey: { name: 'session_id', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: 'ttl',
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // The AWS managed key (aws/dynamodb) rather than a customer managed one: the items hold
      // session ids and tenant names, never SQL or rows; every use of the key is in CloudTrail;
      // and there is no key policy to get wrong, nor $1 a month per key.
      encryption: TableEncryption.AWS_MANAGED,
      removalPolicy: settings.removalPolicy,
      // A retained table is also protected from a stray delete-table; a destroyable one cannot be.
      deletionProtection: settings.removalPolicy === RemovalPolicy.RETAIN,
    });

    const lambdaPrincipal = new ServicePrincipal('lambda.amazonaws.com');
    this.dataApiRole = new Role(this, 'DataApiRole', {
      assumedBy: lambdaPrincipal,
      description:
        'Spectra functions that call the Redshift Data API; one identity, so that each can read and cancel the statements the others ran',
    });
    this.sessionStoreRole = new Role(this, 'SessionStoreRole', {
      assumedBy: lambdaPrincipal,
      description: 'Spectra functions that only read and write the sessions table',
    });
    const roles = { dataApi: this.dataApiRole, sessionStore: this.sessionStoreRole };
    this.table.grant(this.dataApiRole, ...TABLE_ACTIONS);
    // CleanupSessions, the one caller of Scan, runs as the session store role.
    this.table.grant(this.sessionStoreRole, ...TABLE_ACTIONS, ...SWEEP_ACTIONS);
    grantDataApiAccess(this, this.dataApiRole, {
      config: settings.config,
      workgroupId: settings.workgroupId,
    });

    this.resultsBucket = this.createResultsBucket(settings);

    const environment = {
      ...settings.environment,
      [CONFIG_VARIABLES.table]: this.table.tableName,
      [CONFIG_VARIABLES.resultsBucket]: this.resultsBucket.bucketName,
    };
    const functions: Partial<Record<FunctionName, SpectraFunction>> = {};
    for (const fn of FUNCTIONS) {
      functions[fn.name] = new SpectraFunction(this, `${fn.name}Function`, {
        name: fn.name,
        entry: fn.entry,
        description: fn.description,
        role: roles[fn.role],
        timeout: Duration.seconds(fn.timeoutSeconds),
        memorySize: 'memoryMB' in fn ? fn.memoryMB : undefined,
        environment,
        logLevel: settings.logLevel,
        logRetention: settings.logRetention,
        removalPolicy: settings.removalPolicy,
      });
    }
    this.functions = functions as Record<FunctionName, SpectraFunction>;

    this.stateMachine = this.createStateMachine(settings);

    this.handleStoppedExecutions();
    new Rule(this, 'CleanupSchedule', {
      description: 'Spectra: deletes the records of expired sessions',
      schedule: Schedule.rate(Duration.minutes(15)),
      targets: [new LambdaFunction(this.functions.CleanupSessions, { retryAttempts: 2 })],
    });

    this.monitoring = new SessionCacheMonitoring(this, 'Monitoring', {
      stateMachine: this.stateMachine,
      functions: this.functions,
      dashboardName: `${this.stackName}-Session-Cache-Performance`,
      alarmTopicArn: settings.alarmTopicArn,
    });

    new CfnOutput(this, 'StateMachineArn', {
      description:
        'Start queries here: aws stepfunctions start-execution --state-machine-arn <this ARN>',
      value: this.stateMachine.stateMachineArn,
    });
    new CfnOutput(this, 'SessionsTableName', {
      description: 'The pooled Data API sessions, one item per session',
      value: this.table.tableName,
    });
    new CfnOutput(this, 'ResultsBucketName', {
      description: `Results larger than the inline budget, under ${RESULTS_PREFIX}, kept ${settings.config.resultRetentionDays} days`,
      value: this.resultsBucket.bucketName,
    });
    new CfnOutput(this, 'DashboardUrl', {
      description: 'The "Session Cache Performance" dashboard',
      value: this.monitoring.dashboardUrl,
    });

    this.acknowledgeFindings();
  }

  /**
   * Where FetchResults writes a result larger than the inline budget: private (Block Public
   * Access, objects owned by the bucket, no ACLs), TLS only, encrypted with S3-managed keys or
   * the given KMS key, and emptied by a lifecycle rule after `resultRetentionDays`, the same days
   * the results' `expiresAt` counts. The Data API role may write there, under `results/` only,
   * and read nothing: callers read results with their own permission (see the README).
   */
  private createResultsBucket(settings: SpectraSettings): Bucket {
    const key =
      settings.resultsKeyArn === undefined
        ? undefined
        : Key.fromKeyArn(this, 'ResultsKey', settings.resultsKeyArn);
    const bucket = new Bucket(this, 'ResultsBucket', {
      encryption: key === undefined ? BucketEncryption.S3_MANAGED : BucketEncryption.KMS,
      encryptionKey: key,
      // One data key per object rather than a KMS request per part: cheaper and faster uploads.
      bucketKeyEnabled: key === undefined ? undefined : true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      lifecycleRules: [
        {
          id: 'ExpireResults',
          prefix: RESULTS_PREFIX,
          expiration: Duration.days(settings.config.resultRetentionDays),
          // A FetchResults that died mid-upload leaves parts no one completes.
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
      // Results are copies of warehouse rows that expire within days: nothing to keep.
      removalPolicy: settings.removalPolicy,
    });
    this.dataApiRole.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'WriteResultsUnderTheResultsPrefix',
        // PutObject covers CreateMultipartUpload, UploadPart and CompleteMultipartUpload.
        actions: ['s3:PutObject', 's3:AbortMultipartUpload'],
        resources: [bucket.arnForObjects(`${RESULTS_PREFIX}*`)],
      }),
    );
    if (key !== undefined) {
      this.dataApiRole.addToPrincipalPolicy(
        new PolicyStatement({
          sid: 'EncryptResultsWithTheResultsKey',
          // A multipart upload under SSE-KMS needs Decrypt too, to put the parts together.
          actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
          resources: [key.keyArn],
        }),
      );
    }
    Validations.of(bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: `The results bucket ${bucket.node.path} keeps no server access logs: it holds short-lived copies of query results, written by one role under results/ and read by the callers that ran the queries; CloudTrail data events, where the account enables them, record who read what, without a second bucket to secure and expire.`,
    });
    return bucket;
  }

  /**
   * The workflow from statemachine/query.asl.json, each `${<Name>FunctionArn}` replaced by that
   * function's ARN. The substitution is done here, by the function the local stack uses too, rather
   * than by CloudFormation's DefinitionSubstitutions: the template then holds the definition that
   * runs (reviewable, and checked by the tests), and the local stack and AWS cannot substitute
   * differently. An unknown placeholder fails the synth.
   */
  private createStateMachine(settings: SpectraSettings): StateMachine {
    const definition = loadDefinition((name) => this.functions[name].functionArn);
    const logGroup = new LogGroup(this, 'StateMachineLogGroup', {
      retention: settings.logRetention,
      removalPolicy: settings.removalPolicy,
    });
    const stateMachine = new StateMachine(this, 'QueryStateMachine', {
      stateMachineType: StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromString(definition),
      tracingEnabled: true,
      logs: {
        destination: logGroup,
        level: settings.stateMachineLogLevel,
        // Off by default: inputs and outputs carry the tenants' SQL and result rows.
        includeExecutionData: settings.includeExecutionData,
      },
    });
    for (const fn of WORKFLOW_FUNCTIONS) this.functions[fn.name].grantInvoke(stateMachine);
    if (settings.stateMachineLogLevel !== LogLevel.ALL) {
      Validations.of(stateMachine).acknowledge({
        id: 'AwsSolutions-SF1',
        reason: `The query state machine ${stateMachine.node.path} logs at level ${settings.stateMachineLogLevel}, below ALL, because the deployment chose it with the stateMachineLogLevel parameter (fewer log events cost less).`,
      });
    }
    return stateMachine;
  }

  /**
   * An execution that is stopped or times out runs no Catch, and one that fails at a step (a
   * transient error that outlasted its retries) runs no failure path: EventBridge hands it to
   * CancelStoppedExecution, which frees its session and, for a stopped one, cancels its statement.
   * The construct keeps its first id, which a deployed stack knows it by.
   */
  private handleStoppedExecutions(): void {
    new Rule(this, 'StoppedExecutionRule', {
      description:
        'Spectra: cleans up after query executions that failed, were aborted or timed out',
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: {
          status: ['FAILED', 'ABORTED', 'TIMED_OUT'],
          stateMachineArn: [this.stateMachine.stateMachineArn],
        },
      },
      targets: [
        new LambdaFunction(this.functions.CancelStoppedExecution, {
          retryAttempts: 4,
          maxEventAge: Duration.hours(1),
        }),
      ],
    });
    // A separate policy, not the role's default one: the functions depend on the default policy,
    // the state machine depends on the functions, and this statement names the state machine.
    new Policy(this, 'ReadStoppedExecutionHistory', {
      roles: [this.dataApiRole],
      statements: [
        new PolicyStatement({
          sid: 'FindTheStatementOfAStoppedExecution',
          actions: ['states:GetExecutionHistory'],
          resources: [this.executionArnPattern()],
        }),
      ],
    });
  }

  /** Every execution of the query state machine. */
  private executionArnPattern(): string {
    return this.formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${this.stateMachine.stateMachineName}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  }

  /** cdk-nag findings that are the design, each with its reason, on the resource it concerns. */
  private acknowledgeFindings(): void {
    const logicalId = (construct: IConstruct) =>
      this.getLogicalId(construct.node.defaultChild as CfnElement);
    const stateMachineRole = this.stateMachine.role;

    Validations.of(this.dataApiRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${logicalId(this.resultsBucket)}.Arn>/${RESULTS_PREFIX}*]`,
      reason: `The role ${this.dataApiRole.node.path} writes results under ${RESULTS_PREFIX} of the results bucket: each result's key holds its execution and statement, which are known only at run time, so the key is a wildcard under that prefix.`,
    });
    Validations.of(this.dataApiRole).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: `The role ${this.dataApiRole.node.path} has three statements on "*": X-Ray's PutTraceSegments and PutTelemetryRecords, which have no resource to name; ListSessions, which names none either and lists only the sessions the role opened; and DescribeStatement, GetStatementResult and CancelStatement, which name a statement id that IAM cannot scope, so they are limited by the condition redshift-data:statement-owner-iam-userid to statements this role ran.`,
    });
    Validations.of(this.sessionStoreRole).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: `The role ${this.sessionStoreRole.node.path} has "*" only for X-Ray's PutTraceSegments and PutTelemetryRecords (active tracing), which have no resource to name.`,
    });
    Validations.of(stateMachineRole).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: `The role ${stateMachineRole.node.path} of the query state machine has "*" only where the service allows nothing else: the CloudWatch Logs log-delivery actions that Step Functions logging needs, and X-Ray tracing.`,
    });
    for (const fn of WORKFLOW_FUNCTIONS) {
      Validations.of(stateMachineRole).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${logicalId(this.functions[fn.name])}.Arn>:*]`,
        reason: `grantInvoke lets the query state machine's role ${stateMachineRole.node.path} invoke the ${fn.name} function and its versions and aliases (<arn>:*): that one function, nothing else.`,
      });
    }
    const historyPolicy = this.node.findChild('ReadStoppedExecutionHistory');
    Validations.of(historyPolicy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:<${logicalId(this.stateMachine)}.Name>:*]`,
      reason: `The policy ${historyPolicy.node.path} lets CancelStoppedExecution read the history of the query state machine's executions and no others; callers choose execution names, so the execution part is a wildcard.`,
    });
  }
}
