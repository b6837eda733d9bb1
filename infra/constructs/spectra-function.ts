import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Duration, type RemovalPolicy, Validations } from 'aws-cdk-lib';
import type { IRole } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../../functions/common/observability.ts';
import { cdkBundlingOptions } from '../bundling.ts';

const repoRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));

export interface SpectraFunctionProps {
  /** The function's name in functions/registry.ts, e.g. `SubmitQuery`. */
  readonly name: string;
  /** Its source file, relative to the repository root. */
  readonly entry: string;
  readonly description: string;
  /** Shared by functions that must see each other's Data API statements. */
  readonly role: IRole;
  readonly timeout: Duration;
  /** @default 256 */
  readonly memorySize?: number;
  /** The SPECTRA_* variables, which the function checks when it loads. */
  readonly environment: Record<string, string>;
  /** POWERTOOLS_LOG_LEVEL. */
  readonly logLevel: string;
  readonly logRetention: RetentionDays;
  /** Applied to the function's log group. */
  readonly removalPolicy: RemovalPolicy;
}

/**
 * A Spectra Lambda function: Node.js 22 on ARM64 (Graviton costs about 20% less per GB-second),
 * bundled locally by esbuild with the options every build uses (infra/bundling.ts), X-Ray tracing,
 * source-mapped stack traces, Powertools settings, and a log group of its own with a retention.
 */
export class SpectraFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: SpectraFunctionProps) {
    // A log group created here rather than by Lambda on first write: it gets a retention and a
    // removal policy, and the role needs no logs:CreateLogGroup.
    const logGroup = new LogGroup(scope, `${id}LogGroup`, {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    super(scope, id, {
      entry: resolve(repoRoot, props.entry),
      handler: 'handler',
      projectRoot: repoRoot,
      depsLockFilePath: resolve(repoRoot, 'package-lock.json'),
      description: props.description,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout,
      role: props.role,
      logGroup,
      tracing: Tracing.ACTIVE,
      bundling: cdkBundlingOptions(),
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
        POWERTOOLS_LOG_LEVEL: props.logLevel,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        ...props.environment,
      },
    });
    logGroup.grantWrite(props.role);

    Validations.of(this).acknowledge({
      id: 'AwsSolutions-L1',
      reason: `The ${props.name} function (${this.node.path}) runs on nodejs22.x on purpose: it is the runtime the project is built and tested for (the bundle targets node22), and it is supported by Lambda; moving to a newer runtime is a deliberate upgrade, not a side effect of a deploy.`,
    });
  }
}
