import { decodePageToken, encodePageToken } from '../page-token.ts';
import { validationError } from './requests.ts';

/** Paging of the Data API's lists and results, with the local stack's page tokens (page-token.ts). */

/** Page sizes when the request sets no `MaxResults`: the service's defaults. */
export const DEFAULT_PAGE_SIZE = { statements: 100, others: 1000 } as const;

export const encodeToken = encodePageToken;

/** The offset a token stands for (0 without one); a token of another scope is refused. */
export function decodeToken(scope: string, token: string | undefined): number {
  const offset = decodePageToken(scope, token);
  if (offset === undefined) throw validationError('The NextToken is not valid for this request.');
  return offset;
}

/** What a list request says about paging. */
export interface PageRequest {
  NextToken?: string;
  MaxResults?: number;
}

/** The page of `items` a list request asks for, and the token of the next one if any is left. */
export function page<T>(
  items: T[],
  scope: string,
  request: PageRequest,
  defaultSize: number,
): { items: T[]; NextToken?: string } {
  const offset = decodeToken(scope, request.NextToken);
  const size = request.MaxResults && request.MaxResults > 0 ? request.MaxResults : defaultSize;
  const end = offset + size;
  return end < items.length
    ? { items: items.slice(offset, end), NextToken: encodeToken(scope, end) }
    : { items: items.slice(offset) };
}
