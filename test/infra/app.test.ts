import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runProcess } from '../support/spawn.ts';

const cdkJson = JSON.parse(readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8')) as { app: string };

/**
 * Runs infra/app.ts the way the CDK CLI does (cdk.json's command, with the context and output
 * directory in CDK_CONTEXT_JSON and CDK_OUTDIR), without bundling.
 */
async function runApp(context: Record<string, string>, outdir: string) {
  const [command, ...args] = cdkJson.app.split(' ');
  return runProcess(command as string, args, {
    env: {
      ...process.env,
      CDK_OUTDIR: outdir,
      CDK_CONTEXT_JSON: JSON.stringify({ 'aws:cdk:bundling-stacks': [], ...context }),
    },
  });
}

describe('App: infra/app.ts', () => {
  const outdir = mkdtempSync(join(tmpdir(), 'spectra-cdk-out-'));
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  it('synthesizes the Spectra stack from CDK context, with cdk-nag passing', async () => {
    // GIVEN cdk.json's app command and `-c clusterIdentifier=analytics`
    // WHEN the CLI would run it
    const result = await runApp({ clusterIdentifier: 'analytics' }, outdir);
    // THEN it writes the template, and the validation (cdk-nag) finds nothing
    expect(result.code, result.stderr).toBe(0);
    const template = JSON.parse(readFileSync(join(outdir, 'Spectra.template.json'), 'utf8'));
    expect(Object.keys(template.Outputs).sort()).toEqual([
      'DashboardUrl',
      'ResultsBucketName',
      'SessionsTableName',
      'StateMachineArn',
    ]);
    const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as {
      pluginReports: { pluginName: string; conclusion: string }[];
    };
    // (A failing plugin would also have made the app exit with "Validation failed".)
    expect(report.pluginReports.filter((plugin) => plugin.conclusion !== 'success')).toEqual([]);
  });

  it('fails with the parameter problem alone, no stack trace, when a parameter is wrong', async () => {
    // GIVEN no compute target
    // WHEN the app runs
    const result = await runApp({}, join(outdir, 'missing'));
    // THEN it exits non-zero, and stderr says what to set
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(
      'Missing Spectra parameter: set clusterIdentifier (a provisioned cluster, -c clusterIdentifier=<id>) or workgroupName (Redshift Serverless, -c workgroupName=<name>); neither is set.',
    );
  });
});
