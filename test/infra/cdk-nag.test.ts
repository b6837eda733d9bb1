import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import type { SpectraParameterInput } from '../../infra/parameters.ts';
import { SpectraStack } from '../../infra/spectra-stack.ts';
import { CLUSTER, SECRET_ARN, synthesize, WORKGROUP_ID } from './synth.ts';

const DEPLOYMENTS: Record<string, SpectraParameterInput> = {
  'a cluster with per-tenant users': CLUSTER,
  'a cluster with a db user prefix and a secret': {
    clusterIdentifier: 'analytics',
    dbUserTemplate: 't_{tenant}',
    secretArn: SECRET_ARN,
  },
  'a workgroup known by name only': { workgroupName: 'analytics-wg' },
  'a workgroup with its id and a secret': {
    workgroupName: 'analytics-wg',
    workgroupId: WORKGROUP_ID,
    secretArn: SECRET_ARN,
  },
  'a state machine that logs errors only': { ...CLUSTER, stateMachineLogLevel: 'ERROR' },
};

/** Every acknowledgment in the tree: where, which rule, and why. */
function acknowledgments(root: IConstruct) {
  return root.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([rule, reason]) => ({
          path: construct.node.path,
          rule,
          reason,
        })),
      ),
  );
}

describe('cdk-nag AwsSolutions', () => {
  it.each(Object.entries(DEPLOYMENTS))(
    'finds nothing unacknowledged for %s',
    (_name, parameters) => {
      // GIVEN the stack for that deployment
      const { app } = synthesize(parameters);
      // WHEN the AwsSolutions pack checks it
      const report = new AwsSolutionsChecks().validateScope(app);
      // THEN there is no error and no warning left
      expect(report.violations).toEqual([]);
      expect(report.success).toBe(true);
    },
  );

  it('passes the synth as the app runs it, with the pack as a validation plugin', () => {
    // GIVEN the app as infra/app.ts builds it
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    new SpectraStack(app, 'SpectraTest', { parameters: CLUSTER });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    // WHEN it is synthesized
    // THEN the validation does not fail it
    expect(() => app.synth()).not.toThrow();
  });

  it('gives every acknowledgment a reason that names the resource it concerns', () => {
    // GIVEN the deployment with the most acknowledgments
    const { app } = synthesize({ workgroupName: 'analytics-wg', stateMachineLogLevel: 'OFF' });
    // WHEN the acknowledgments are listed
    const all = acknowledgments(app);
    // THEN each one is reasoned, and says which construct it is about
    expect(all.length).toBeGreaterThan(0);
    for (const { path, rule, reason } of all) {
      expect(rule).toMatch(/AwsSolutions-/);
      expect(reason, `${rule} on ${path}`).toContain(path);
      expect(reason.length, `${rule} on ${path}`).toBeGreaterThan(60);
    }
  });

  it('acknowledges only rules that fire: fixes come first', () => {
    // GIVEN the default deployment
    const { app } = synthesize();
    // WHEN the acknowledged rules are counted by rule
    const rules = new Set(acknowledgments(app).map(({ rule }) => rule.replace(/\[.*$/, '')));
    // THEN they are the runtime choice, IAM wildcards that IAM itself forces, and the results
    // bucket's access logs, nothing else
    expect([...rules].map((rule) => rule.replace(/^Annotation::/, '')).sort()).toEqual([
      'AwsSolutions-IAM5',
      'AwsSolutions-L1',
      'AwsSolutions-S1',
    ]);
  });
});
