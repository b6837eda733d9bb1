import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import type { SpectraParameterInput } from '../../infra/parameters.ts';
import { SpectraStack } from '../../infra/spectra-stack.ts';

/** Parameters of a deployment on a provisioned cluster with per-tenant database users. */
export const CLUSTER: SpectraParameterInput = { clusterIdentifier: 'analytics' };
export const SECRET_ARN =
  'arn:aws:secretsmanager:eu-west-1:123456789012:secret:spectra/redshift-AbCdEf';
export const WORKGROUP_ID = '3f1b2c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d';

/**
 * Builds the stack without bundling: `aws:cdk:bundling-stacks: []` makes NodejsFunction skip
 * esbuild (aws/aws-cdk#12844), so a synth takes a second, not ten.
 */
export function synthesize(
  parameters: SpectraParameterInput = CLUSTER,
  context: Record<string, unknown> = {},
) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [], ...context } });
  const stack = new SpectraStack(app, 'SpectraTest', { parameters });
  return { app, stack, template: Template.fromStack(stack) };
}

export const logicalIdOf = (construct: IConstruct) =>
  Stack.of(construct).getLogicalId(construct.node.defaultChild as CfnElement);

export interface PolicyStatementJson {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
  Sid?: string;
}

/** Every statement of every IAM policy in the template, with the roles the policy is attached to. */
export function policyStatements(template: Template) {
  const policies = template.findResources('AWS::IAM::Policy') as Record<
    string,
    {
      Properties: {
        PolicyDocument: { Statement: PolicyStatementJson[] };
        Roles: { Ref: string }[];
      };
    }
  >;
  return Object.entries(policies).flatMap(([policyId, policy]) =>
    policy.Properties.PolicyDocument.Statement.map((statement) => ({
      policyId,
      roles: policy.Properties.Roles.map((role) => role.Ref),
      statement,
      actions: [statement.Action].flat(),
      resources: [statement.Resource].flat(),
    })),
  );
}

/** The statements that allow `action`. */
export function statementsAllowing(template: Template, action: string) {
  return policyStatements(template).filter((entry) => entry.actions.includes(action));
}

/**
 * A CloudFormation value as text, with each reference written `<LogicalId>` or
 * `<LogicalId.Attribute>` (an Fn::Join becomes its parts joined), so a test can read an ARN.
 */
export function render(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || typeof value !== 'object') return String(value);
  const object = value as Record<string, unknown>;
  if ('Ref' in object) return `<${String(object.Ref)}>`;
  if ('Fn::GetAtt' in object) {
    const [id, attribute] = object['Fn::GetAtt'] as [string, string];
    return `<${id}.${attribute}>`;
  }
  if ('Fn::Join' in object) {
    const [separator, parts] = object['Fn::Join'] as [string, unknown[]];
    return parts.map(render).join(separator);
  }
  return JSON.stringify(value);
}

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

/** The template's resource of one of the stack's functions, by its name in the catalog. */
export function functionResourceOf(stack: SpectraStack, template: Template, name: string) {
  const id = logicalIdOf(stack.functions[name as keyof typeof stack.functions]);
  return template.toJSON().Resources[id] as FunctionResource;
}

/**
 * The deployment the SpectraStack tests read: a provisioned cluster with per-tenant database
 * users and a 30-minute keep-alive, with a finder for each function's resource.
 */
export function synthesizeSpectraStack() {
  const { stack, template } = synthesize({ ...CLUSTER, keepAliveSeconds: '1800' });
  const functionResource = (name: string) => functionResourceOf(stack, template, name);
  return { stack, template, functionResource };
}
