import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { RedshiftDataClient } from '@aws-sdk/client-redshift-data';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../local/identity.ts';
import type { CountersResponse } from '../local/test-controls.ts';

/**
 * A running local stack as the benchmark and the reliability suite reach it: over its HTTP
 * endpoint only, with the SDK clients a user has (Step Functions, the Data API, DynamoDB) and the
 * `/_spectra/` test controls. Nothing here reaches into the stack's objects, so what they measure
 * and check is what a user sees.
 */

export interface StackClientOptions {
  /** The SDK's attempts per call (its default, 3, unless set). */
  maxAttempts?: number;
}

export class StackClient {
  readonly sfn: SFNClient;
  readonly redshiftData: RedshiftDataClient;
  readonly documents: DynamoDBDocumentClient;

  constructor(
    readonly url: string,
    options: StackClientOptions = {},
  ) {
    const config = {
      endpoint: url,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
      maxAttempts: options.maxAttempts,
    };
    this.sfn = new SFNClient(config);
    this.redshiftData = new RedshiftDataClient(config);
    this.documents = DynamoDBDocumentClient.from(new DynamoDBClient(config));
  }

  destroy(): void {
    this.sfn.destroy();
    this.redshiftData.destroy();
    this.documents.destroy();
  }

  /** What GET /_spectra/counters answers. */
  async counters(): Promise<CountersResponse> {
    const response = await fetch(`${this.url}/_spectra/counters`);
    return (await response.json()) as CountersResponse;
  }

  /** POSTs to a test control; throws unless it answers 200. */
  async control(path: string, body: unknown = {}): Promise<Record<string, unknown>> {
    const response = await fetch(`${this.url}/_spectra/${path}`, {
      method: 'POST',
      body: JSON.stringify(body),
    });
    const answer = (await response.json()) as Record<string, unknown>;
    if (response.status !== 200)
      throw new Error(`/_spectra/${path} answered ${response.status}: ${JSON.stringify(answer)}`);
    return answer;
  }
}
