import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { SpectraParameterError } from './parameters.ts';
import { SpectraStack } from './spectra-stack.ts';

/**
 * The CDK app: `npx cdk synth -c clusterIdentifier=analytics` (or `-c workgroupName=...`).
 * Parameters are CDK context values; see infra/parameters.ts for the list.
 */
const app = new App();
try {
  new SpectraStack(app, app.node.tryGetContext('stackName') ?? 'Spectra', {
    description:
      'Spectra: asynchronous SQL on Amazon Redshift for many tenants, with pooled Data API sessions',
  });
} catch (error) {
  // A parameter problem is the user's to fix: say it plainly, without a stack trace.
  if (error instanceof SpectraParameterError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}
// Every AwsSolutions finding fails the synth unless it is acknowledged, with a reason, on the
// resource it concerns (see SpectraStack.acknowledgeFindings).
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
