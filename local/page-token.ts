/**
 * Page tokens of the local services: opaque to the caller, they name the list they page
 * (`scope`) and the offset of the next page, so that a token the service did not issue for this
 * list, forged or from another list, is refused as AWS refuses it.
 */

export function encodePageToken(scope: string, offset: number): string {
  return Buffer.from(JSON.stringify({ scope, offset })).toString('base64url');
}

/** The offset a token stands for (0 without one); undefined for a token of another list or none of ours. */
export function decodePageToken(scope: string, token: string | undefined): number | undefined {
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
      (decoded.offset as number) >= 0 &&
      encodePageToken(scope, decoded.offset as number) === token
    )
      return decoded.offset as number;
  } catch {
    // Not one of ours.
  }
  return undefined;
}
