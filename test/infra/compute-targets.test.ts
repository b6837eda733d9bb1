import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import type { SpectraParameterInput } from '../../infra/parameters.ts';
import {
  policyStatements,
  render,
  SECRET_ARN,
  statementsAllowing,
  synthesize,
  WORKGROUP_ID,
} from './synth.ts';

const ARN = 'arn:<AWS::Partition>';
const CLUSTER_ARN = `${ARN}:redshift:<AWS::Region>:<AWS::AccountId>:cluster:analytics`;
const workgroupArn = (id: string) =>
  `${ARN}:redshift-serverless:<AWS::Region>:<AWS::AccountId>:workgroup/${id}`;

/** Who is asked for credentials: the action, and where. */
interface Case {
  parameters: SpectraParameterInput;
  executeOn: string;
  credentials: { action: string; resources: string[] };
  environment: Record<string, string>;
}

const dbUserArn = (pattern: string) =>
  `${ARN}:redshift:<AWS::Region>:<AWS::AccountId>:dbuser:analytics/${pattern}`;
const DB_NAME_ARN = `${ARN}:redshift:<AWS::Region>:<AWS::AccountId>:dbname:analytics/dev`;

/**
 * The cluster `analytics`, whose database users get temporary credentials: those the user
 * template can name (`dbUserPattern`), in the database dev.
 */
const clusterWithTemporaryCredentials = (
  parameters: SpectraParameterInput,
  dbUserPattern: string,
  environment: Record<string, string> = {},
): Case => ({
  parameters: { clusterIdentifier: 'analytics', ...parameters },
  executeOn: CLUSTER_ARN,
  credentials: {
    action: 'redshift:GetClusterCredentials',
    resources: [dbUserArn(dbUserPattern), DB_NAME_ARN],
  },
  environment: { SPECTRA_REDSHIFT_CLUSTER_IDENTIFIER: 'analytics', ...environment },
});

const cases: Record<string, Case> = {
  'a provisioned cluster with the default user template': clusterWithTemporaryCredentials(
    {},
    'tenant_*',
    { SPECTRA_DB_USER_TEMPLATE: 'tenant_{tenant}' },
  ),
  'a provisioned cluster with a user template that has a suffix': clusterWithTemporaryCredentials(
    { dbUserTemplate: '{tenant}_ro' },
    '*_ro',
  ),
  'a provisioned cluster with a user template that has a prefix and a suffix':
    clusterWithTemporaryCredentials(
      { dbUserTemplate: 'app_{tenant}_ro', deniedDbUsers: 'app_ops_ro' },
      'app_*_ro',
      { SPECTRA_DENIED_DB_USERS: 'app_ops_ro' },
    ),
  'a provisioned cluster with per-tenant database users': clusterWithTemporaryCredentials(
    { dbUserTemplate: 't_{tenant}' },
    't_*',
  ),
  'a provisioned cluster with a secret': {
    parameters: { clusterIdentifier: 'analytics', secretArn: SECRET_ARN, database: 'sales' },
    executeOn: CLUSTER_ARN,
    credentials: { action: 'secretsmanager:GetSecretValue', resources: [SECRET_ARN] },
    environment: {
      SPECTRA_REDSHIFT_CLUSTER_IDENTIFIER: 'analytics',
      SPECTRA_REDSHIFT_SECRET_ARN: SECRET_ARN,
      SPECTRA_REDSHIFT_DATABASE: 'sales',
    },
  },
  'a Serverless workgroup known by name only': {
    parameters: { workgroupName: 'analytics-wg' },
    executeOn: workgroupArn('*'),
    credentials: { action: 'redshift-serverless:GetCredentials', resources: [workgroupArn('*')] },
    environment: { SPECTRA_REDSHIFT_WORKGROUP_NAME: 'analytics-wg' },
  },
  'a Serverless workgroup with its id': {
    parameters: { workgroupName: 'analytics-wg', workgroupId: WORKGROUP_ID },
    executeOn: workgroupArn(WORKGROUP_ID),
    credentials: {
      action: 'redshift-serverless:GetCredentials',
      resources: [workgroupArn(WORKGROUP_ID)],
    },
    environment: { SPECTRA_REDSHIFT_WORKGROUP_NAME: 'analytics-wg' },
  },
  'a Serverless workgroup with a secret': {
    parameters: { workgroupName: 'analytics-wg', workgroupId: WORKGROUP_ID, secretArn: SECRET_ARN },
    executeOn: workgroupArn(WORKGROUP_ID),
    credentials: { action: 'secretsmanager:GetSecretValue', resources: [SECRET_ARN] },
    environment: {
      SPECTRA_REDSHIFT_WORKGROUP_NAME: 'analytics-wg',
      SPECTRA_REDSHIFT_SECRET_ARN: SECRET_ARN,
    },
  },
};

const CREDENTIAL_ACTIONS = [
  'redshift:GetClusterCredentials',
  'redshift-serverless:GetCredentials',
  'secretsmanager:GetSecretValue',
];

describe('Stack: SpectraStack on each compute target', () => {
  it.each(Object.entries(cases))('synthesizes for %s', (_name, expected) => {
    // GIVEN the parameters of that deployment
    // WHEN the stack is synthesized
    const { template } = synthesize(expected.parameters);

    // THEN statements run on that cluster or workgroup only
    const [execute] = statementsAllowing(template, 'redshift-data:ExecuteStatement');
    expect(execute?.resources.map(render)).toEqual([expected.executeOn]);
    // AND credentials come from the one source the configuration uses, scoped to it
    for (const action of CREDENTIAL_ACTIONS) {
      const granted = statementsAllowing(template, action);
      if (action === expected.credentials.action) {
        expect(granted.flatMap((entry) => entry.resources.map(render))).toEqual(
          expected.credentials.resources,
        );
      } else {
        expect(granted).toEqual([]);
      }
    }
    // AND the functions are told the same target
    template.allResourcesProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike(expected.environment) },
    });
  });

  it('never grants credentials for every database user of a cluster, in any deployment', () => {
    // GIVEN every deployment above
    const dbUserResources = Object.values(cases).flatMap((expected) =>
      policyStatements(synthesize(expected.parameters).template)
        .flatMap((entry) => entry.resources.map(render))
        .filter((resource) => resource.includes(':dbuser:')),
    );
    // THEN each dbuser resource names the tenants' namespace, never `/*`, which would include the
    // cluster's administrator (awsuser, admin, ...)
    expect(dbUserResources.length).toBeGreaterThanOrEqual(4);
    for (const resource of dbUserResources) {
      expect(resource).toMatch(/:dbuser:analytics\/.+/);
      expect(resource.endsWith('/*')).toBe(false);
    }
  });

  it('grants no Data API action that no function calls', () => {
    // GIVEN any deployment
    const { template } = synthesize();
    // WHEN the Data API actions are collected
    const actions = new Set(
      policyStatements(template)
        .flatMap((entry) => entry.actions)
        .filter((action) => action.startsWith('redshift-data:')),
    );
    // THEN only the six the functions use are there
    expect([...actions].sort()).toEqual([
      'redshift-data:BatchExecuteStatement',
      'redshift-data:CancelStatement',
      'redshift-data:DescribeStatement',
      'redshift-data:ExecuteStatement',
      'redshift-data:GetStatementResult',
      'redshift-data:ListSessions',
    ]);
  });
});
