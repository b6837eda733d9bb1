import { validationError } from './requests.ts';

/**
 * The emulator's page tokens: opaque to the caller, they name the list they page (`scope`) and the
 * offset of the next page, so that a token from one list or statement is refused by another, as
 * the service refuses a foreign `NextToken`.
 */

/** Page sizes when the request sets no `MaxResults`: the service's defaults. */
export const DEFAULT_PAGE_SIZE = { statements: 100, others: 1000 } as const;

export function encodeToken(scope: string, offset: number): string {
  return Buffer.from(JSON.stringify({ scope, offset })).toString('base64url');
}

/** The offset a token stands for (0 without one); a token of another scope is refused. */
export function decodeToken(scope: string, token: string | undefined): number {
  if (token === undefined || token === '') return 0;
  try {
    const decoded: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (
      typeof decoded === 'object' &&
      decoded !== null &&
      'scope' in decoded &&
      'offset' in decoded &&
      decoded.scope === scope &&
      Number.isInteger(decoded.offset) &&
      (decoded.offset as number) >= 0
    )
      return decoded.offset as number;
  } catch {
    // Falls through to the refusal below.
  }
  throw validationError('The NextToken is not valid for this request.');
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
