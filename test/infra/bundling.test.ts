import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE_MAX_BYTES } from '../../bench/targets.ts';
import { FUNCTIONS } from '../../functions/registry.ts';
import { cdkBundlingOptions, FUNCTION_BUNDLE } from '../../infra/bundling.ts';
import { SpectraFunction } from '../../infra/constructs/spectra-function.ts';
import { type BundledFunction, bundleAll, bundleFunction } from '../../scripts/bundle-functions.ts';
import { runNode } from '../support/spawn.ts';
import { logicalIdOf } from './synth.ts';

/**
 * Loads the bundle in a fresh Node process, with the environment a deployed function gets, and
 * calls its handler with an event it must refuse: the refusal proves the module graph (Middy,
 * Powertools, zod, the SDK clients, the configuration check) loaded and ran, and the stack trace
 * proves the source map is applied.
 */
const LOAD_AND_INVOKE = `
const { handler } = await import(process.env.BUNDLE);
const context = {
  functionName: 'spectra-CancelStoppedExecution', functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:spectra-CancelStoppedExecution',
  memoryLimitInMB: '256', awsRequestId: 'test', logGroupName: 'test', logStreamName: 'test',
  getRemainingTimeInMillis: () => 60000,
};
try {
  await handler({ detail: {} }, context);
  console.log(JSON.stringify({ handler: typeof handler, error: null }));
} catch (error) {
  console.log(JSON.stringify({ handler: typeof handler, error: error.message, stack: error.stack }));
}
`;

describe('Bundling', () => {
  // Outside the repository, so that nothing can be resolved from its node_modules.
  const outDir = mkdtempSync(join(tmpdir(), 'spectra-bundle-'));
  let file = '';

  let bundles: BundledFunction[] = [];
  const carrying = (pkg: string) =>
    bundles.filter((bundle) => (bundle.packages[pkg] ?? 0) > 0).map((bundle) => bundle.name);

  beforeAll(async () => {
    // GIVEN CancelStoppedExecution bundled the way the CDK construct bundles it
    file = await bundleFunction('functions/cancel-stopped-execution.ts', outDir);
    // AND every function bundled as `npm run build` bundles them, in one esbuild run
    bundles = await bundleAll(join(outDir, 'all'));
  });
  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  it('writes an ES module with a linked source map', () => {
    expect(file).toBe(join(outDir, 'index.mjs'));
    expect(existsSync(`${file}.map`)).toBe(true);
    const code = readFileSync(file, 'utf8');
    expect(code).toContain('//# sourceMappingURL=index.mjs.map');
    // Minified: lines thousands of characters long (only template literals keep their newlines).
    expect(code.length / code.split('\n').length).toBeGreaterThan(1000);
    // The map carries the mappings, not the sources (sourcesContent: false).
    const map = JSON.parse(readFileSync(`${file}.map`, 'utf8')) as { sourcesContent?: unknown };
    expect(map.sourcesContent).toBeUndefined();
  });

  it('loads and runs in a fresh Node process with nothing but the bundle', async () => {
    // WHEN a new Node process imports it and calls the handler
    const { code, stdout, stderr } = await runNode(
      ['--enable-source-maps', '--input-type=module', '-e', LOAD_AND_INVOKE],
      {
        cwd: outDir,
        env: {
          PATH: process.env.PATH,
          BUNDLE: file,
          AWS_REGION: 'eu-west-1',
          AWS_ACCESS_KEY_ID: 'test',
          AWS_SECRET_ACCESS_KEY: 'test',
          SPECTRA_REDSHIFT_CLUSTER_IDENTIFIER: 'analytics',
          SPECTRA_DYNAMODB_SESSIONS_TABLE_NAME: 'spectra-sessions',
          POWERTOOLS_LOG_LEVEL: 'SILENT',
          POWERTOOLS_METRICS_DISABLED: 'true',
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        },
      },
    );
    // THEN the handler exists and refuses the event with the function's own message
    expect(code, stderr).toBe(0);
    const result = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as {
      handler: string;
      error: string | null;
      stack?: string;
    };
    expect(result.handler).toBe('function');
    expect(result.error).toMatch(/expects an EventBridge "Step Functions Execution Status Change"/);
    // AND its stack trace points at the TypeScript source, through the source map
    expect(result.stack).toContain('functions/cancel-stopped-execution.ts');
  });

  it('produces byte for byte the bundle the SpectraFunction construct uploads', () => {
    // GIVEN the function built by the project's construct, with bundling on as `cdk deploy` has it
    const app = new App({ context: { 'aws:cdk:bundling-stacks': ['**'] } });
    const stack = new Stack(app, 'BundleOnly');
    const fn = new SpectraFunction(stack, 'CancelStoppedExecutionFunction', {
      name: 'CancelStoppedExecution',
      entry: 'functions/cancel-stopped-execution.ts',
      description: 'bundling test',
      role: new Role(stack, 'Role', { assumedBy: new ServicePrincipal('lambda.amazonaws.com') }),
      timeout: Duration.seconds(60),
      environment: {},
      logLevel: 'INFO',
      logRetention: RetentionDays.ONE_DAY,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // WHEN the app is synthesized and the function's asset is found through its code location
    const assembly = app.synth();
    const resource = assembly.getStackByName('BundleOnly').template.Resources[logicalIdOf(fn)] as {
      Properties: { Code: { S3Key: string } };
    };
    const asset = resource.Properties.Code.S3Key.replace(/\.zip$/, '');
    // THEN it is the file the build script wrote
    expect(readFileSync(join(assembly.directory, `asset.${asset}`, 'index.mjs'))).toEqual(
      readFileSync(file),
    );
  });

  it('gives the CDK construct the same options the build script uses', () => {
    // WHEN the construct's bundling props are read
    const options = cdkBundlingOptions();
    // THEN they say what FUNCTION_BUNDLE says, and never fall back to Docker
    expect(options).toEqual(
      expect.objectContaining({
        target: FUNCTION_BUNDLE.target,
        format: OutputFormat.ESM,
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        keepNames: true,
        mainFields: [...FUNCTION_BUNDLE.mainFields],
        banner: FUNCTION_BUNDLE.banner,
        externalModules: [],
        forceDockerBundling: false,
      }),
    );
  });

  it('writes in the one run of every function the bytes a build of its own entry writes', () => {
    const shared = bundles.find((bundle) => bundle.name === 'CancelStoppedExecution');
    // Compared by digest: a deep equality of two 600 kB buffers takes seconds.
    const digest = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
    expect(digest(shared?.file ?? '')).toBe(digest(file));
  });

  it('keeps every bundle under the size budget the benchmark holds it to', () => {
    expect(bundles.map((bundle) => bundle.name)).toEqual(FUNCTIONS.map((fn) => fn.name));
    const over = bundles
      .filter((bundle) => bundle.bytes >= BUNDLE_MAX_BYTES)
      .map((bundle) => `${bundle.name}: ${bundle.bytes} bytes`);
    expect(over).toEqual([]);
  });

  it('carries a client only into the functions that call it', () => {
    // The S3 client and its upload helper are FetchResults' alone (it writes large results)
    expect(carrying('@aws-sdk/client-s3')).toEqual(['FetchResults']);
    expect(carrying('@aws-sdk/lib-storage')).toEqual(['FetchResults']);
    // Step Functions is CancelStoppedExecution's alone (it reads an execution's history)
    expect(carrying('@aws-sdk/client-sfn')).toEqual(['CancelStoppedExecution']);
    // The Data API is every function's but the schedule's clean-up, which only reads the table
    expect(carrying('@aws-sdk/client-redshift-data')).toEqual(
      FUNCTIONS.map((fn) => fn.name).filter((name) => name !== 'CleanupSessions'),
    );
    // Every function has its session pool's DynamoDB client
    expect(carrying('@aws-sdk/client-dynamodb')).toEqual(FUNCTIONS.map((fn) => fn.name));
  });
});
