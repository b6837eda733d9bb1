import { AwsServiceError } from '../aws-json.ts';
import { decodePageToken, encodePageToken } from '../page-token.ts';

/**
 * Reading a Step Functions request's members beyond what the model checks (service-model.ts,
 * request-rules.ts): the members an operation cannot do without, and the page a list asks for.
 */

/** The largest page a list returns, and GetExecutionHistory's default. */
export const MAX_PAGE_SIZE = 1000;

export function requireString(input: Record<string, unknown>, field: string): string {
  const value = input[field];
  if (typeof value !== 'string' || value === '') {
    throw new AwsServiceError(
      'ValidationException',
      `1 validation error detected: Value at '${field}' failed to satisfy constraint: Member must not be null`,
    );
  }
  return value;
}

/**
 * A page of a list; `scope` names the list (the operation and what it lists), so a token issued
 * for another list, or none the service issued, is an InvalidToken. maxResults 0 means the default.
 */
export function pageOf<T>(
  items: T[],
  input: Record<string, unknown>,
  scope: string,
  defaultSize = 100,
): { page: T[]; nextToken?: string } {
  const size =
    typeof input.maxResults === 'number' && input.maxResults > 0
      ? Math.min(input.maxResults, MAX_PAGE_SIZE)
      : defaultSize;
  const token = typeof input.nextToken === 'string' ? input.nextToken : undefined;
  const start = decodePageToken(scope, token);
  if (start === undefined) throw new AwsServiceError('InvalidToken', `Invalid Token: '${token}'`);
  const page = items.slice(start, start + size);
  return {
    page,
    nextToken: start + size < items.length ? encodePageToken(scope, start + size) : undefined,
  };
}
