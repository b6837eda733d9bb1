/**
 * RedriveExecution's idempotency, as AWS keeps it: the last 10 client tokens that redrove an
 * execution are honoured, each for 15 minutes, and a repeated one returns the first redrive's
 * date instead of redriving again.
 */

export interface RedriveToken {
  token: string;
  /** Epoch milliseconds of the redrive it started. */
  redriveDate: number;
}

const TOKENS_KEPT = 10;
const TOKEN_LIFETIME_MS = 15 * 60 * 1000;

export function findRedriveToken(
  tokens: readonly RedriveToken[],
  token: string,
  now: number,
): RedriveToken | undefined {
  return tokens.find((t) => t.token === token && now - t.redriveDate <= TOKEN_LIFETIME_MS);
}

export function rememberRedriveToken(tokens: RedriveToken[], token: string, now: number): void {
  tokens.push({ token, redriveDate: now });
  if (tokens.length > TOKENS_KEPT) tokens.splice(0, tokens.length - TOKENS_KEPT);
}
