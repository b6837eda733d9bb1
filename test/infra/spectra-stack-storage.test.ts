import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../functions/common/config.ts';
import {
  CLUSTER,
  logicalIdOf,
  type PolicyStatementJson,
  policyStatements,
  render,
  statementsAllowing,
  synthesize,
  synthesizeSpectraStack,
} from './synth.ts';

/** The synthesized SpectraStack's storage: the sessions table and the results bucket. */

// GIVEN a deployment on a provisioned cluster with per-tenant database users (synthesized once for
// the whole file: every test below reads the same template)
const { stack, template, functionResource } = synthesizeSpectraStack();

describe('Stack: SpectraStack', () => {
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
});
