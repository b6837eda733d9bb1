import { ArnFormat, type Stack, Validations } from 'aws-cdk-lib';
import { PolicyStatement, type Role } from 'aws-cdk-lib/aws-iam';
import { type Config, dbUserNamespace } from '../../functions/common/config.ts';

export interface DataApiAccessProps {
  readonly config: Config;
  /** Narrows a Serverless workgroup's ARN from `workgroup/*` to `workgroup/<id>`. */
  readonly workgroupId: string | undefined;
}

/** The ARN IAM uses for the compute target: a cluster by name, a workgroup by id. */
export function computeTargetArn(stack: Stack, props: DataApiAccessProps): string {
  const { target } = props.config;
  if ('clusterIdentifier' in target) {
    return stack.formatArn({
      service: 'redshift',
      resource: 'cluster',
      resourceName: target.clusterIdentifier,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  }
  return stack.formatArn({
    service: 'redshift-serverless',
    resource: 'workgroup',
    // IAM names a workgroup by its id, which CloudFormation cannot look up from the name; without
    // the id, every workgroup of this account and Region.
    resourceName: props.workgroupId ?? '*',
    arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
  });
}

/**
 * Grants `role` what the Data API needs to run Spectra's statements and nothing more:
 *
 * - `ExecuteStatement` and `BatchExecuteStatement` (a query's `statements`) on the cluster or
 *   workgroup only.
 * - `ListSessions`, which a stopped execution's clean-up asks whether its session still runs a
 *   statement before it hands the session back: it names no resource, and answers only with the
 *   sessions the caller's own role opened.
 * - `DescribeStatement`, `GetStatementResult` and `CancelStatement` name a statement id, which IAM
 *   cannot scope by resource; AWS documents the `redshift-data:statement-owner-iam-userid`
 *   condition for them. Its documented value `${aws:userid}` would be wrong here: for a Lambda
 *   function `aws:userid` is `<role id>:<function name>`, so PollStatus could not read the
 *   statement SubmitQuery ran. The condition is `<role id>:*` instead, i.e. statements run by any
 *   function of this role and by no other identity.
 * - Credentials: with a secret, `secretsmanager:GetSecretValue` on that secret only; without one,
 *   temporary credentials for the tenants' database users (`redshift:GetClusterCredentials` on the
 *   one `dbname:` and on `dbuser:<cluster>/<prefix>*<suffix>`, the namespace the user template's
 *   fixed part makes, never `dbuser:<cluster>/*`, which would include the cluster's administrator),
 *   or, on Serverless, `redshift-serverless:GetCredentials` on the workgroup.
 */
export function grantDataApiAccess(stack: Stack, role: Role, props: DataApiAccessProps): void {
  const { config } = props;
  const targetArn = computeTargetArn(stack, props);
  role.addToPrincipalPolicy(
    new PolicyStatement({
      sid: 'RunStatementsOnTheWarehouse',
      actions: ['redshift-data:ExecuteStatement', 'redshift-data:BatchExecuteStatement'],
      resources: [targetArn],
    }),
  );
  role.addToPrincipalPolicy(
    new PolicyStatement({
      sid: 'ListOwnSessions',
      actions: ['redshift-data:ListSessions'],
      resources: ['*'],
    }),
  );
  role.addToPrincipalPolicy(
    new PolicyStatement({
      sid: 'ReadAndCancelOwnStatements',
      actions: [
        'redshift-data:DescribeStatement',
        'redshift-data:GetStatementResult',
        'redshift-data:CancelStatement',
      ],
      resources: ['*'],
      conditions: {
        StringLike: { 'redshift-data:statement-owner-iam-userid': `${role.roleId}:*` },
      },
    }),
  );

  if (config.secretArn !== undefined) {
    role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'ReadTheConnectionSecret',
        actions: ['secretsmanager:GetSecretValue'],
        resources: [config.secretArn],
      }),
    );
  } else if ('clusterIdentifier' in config.target) {
    const cluster = config.target.clusterIdentifier;
    role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'TemporaryCredentialsForTenantUsers',
        actions: ['redshift:GetClusterCredentials'],
        resources: [
          stack.formatArn({
            service: 'redshift',
            resource: 'dbuser',
            resourceName: `${cluster}/${tenantUsersPattern(config)}`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
          stack.formatArn({
            service: 'redshift',
            resource: 'dbname',
            resourceName: `${cluster}/${config.database}`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );
  } else {
    role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'TemporaryCredentialsForTheWorkgroup',
        actions: ['redshift-serverless:GetCredentials'],
        resources: [targetArn],
      }),
    );
  }
  acknowledgeWildcards(role, props);
}

/**
 * The tenants' database users as an IAM pattern: `*` for the tenant, the template's fixed part
 * around it (`tenant_{tenant}` → `tenant_*`), from the same check the functions run at start-up.
 */
export function tenantUsersPattern(config: Pick<Config, 'dbUserTemplate'>): string {
  const { prefix, suffix } = dbUserNamespace(config.dbUserTemplate);
  return `${prefix}*${suffix}`;
}

/** The wildcards the Data API's ARNs force; each acknowledgment names the resource it is about. */
function acknowledgeWildcards(role: Role, props: DataApiAccessProps): void {
  const { config } = props;
  const arn = (rest: string) => `Resource::arn:<AWS::Partition>:${rest}`;
  if ('workgroupName' in config.target && props.workgroupId === undefined) {
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[${arn('redshift-serverless:<AWS::Region>:<AWS::AccountId>:workgroup/*')}]`,
      reason: `The role ${role.node.path} runs statements on workgroup "${config.target.workgroupName}", but IAM names a workgroup by its id, not its name, and no workgroupId parameter was given; pass -c workgroupId=<id> to scope ExecuteStatement and GetCredentials to that one workgroup.`,
    });
  }
  if ('clusterIdentifier' in config.target && config.secretArn === undefined) {
    const cluster = config.target.clusterIdentifier;
    const users = tenantUsersPattern(config);
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[${arn(`redshift:<AWS::Region>:<AWS::AccountId>:dbuser:${cluster}/${users}`)}]`,
      reason: `The role ${role.node.path} gets temporary credentials for each tenant's own database user on cluster "${cluster}": the users follow the template "${config.dbUserTemplate}", so the tenant part of the dbuser ARN is a wildcard; tenants are added without a deploy.`,
    });
  }
}
