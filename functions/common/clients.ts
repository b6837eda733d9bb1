import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * One client per service for the whole module graph, built once per Lambda container so that
 * connections are reused across invocations. Region, credentials and endpoint come from the
 * standard AWS environment (`AWS_REGION`, `AWS_ENDPOINT_URL`, ...), which is how the local stack
 * points the same code at itself.
 *
 * The SDK's standard retry mode already retries throttling and 5xx responses with backoff and the
 * same ClientToken; four attempts give a burst of throttling about two seconds to pass before the
 * state machine's own retry takes over.
 */
const MAX_SDK_ATTEMPTS = 4;

/** Marked pure so that the one function that never calls the Data API (CleanupSessions) leaves it out. */
export const redshiftDataClient = /* @__PURE__ */ new RedshiftDataClient({
  maxAttempts: MAX_SDK_ATTEMPTS,
});

export const dynamoDbDocumentClient = DynamoDBDocumentClient.from(
  new DynamoDBClient({ maxAttempts: MAX_SDK_ATTEMPTS }),
  { marshallOptions: { removeUndefinedValues: true } },
);

/**
 * Step Functions, for reading an execution's history (CancelStoppedExecution). Marked pure so that
 * the bundles of the functions that never use it leave the client out.
 */
export const sfnClient = /* @__PURE__ */ new SFNClient({ maxAttempts: MAX_SDK_ATTEMPTS });

/**
 * S3, where FetchResults writes a result larger than the inline budget. Marked pure so that the
 * bundles of the functions that never use it leave the client out. The SDK's default settings:
 * against the local stack, whose endpoint is an IP address, the SDK addresses buckets by path.
 */
export const s3Client = /* @__PURE__ */ new S3Client({ maxAttempts: MAX_SDK_ATTEMPTS });
