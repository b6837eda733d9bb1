import { describe } from 'vitest';
import { describeBatches } from './session-hygiene/batches.ts';
import { describeCleanSessions } from './session-hygiene/clean-sessions.ts';
import { hygieneSuite } from './session-hygiene/context.ts';
import { describeDirtySessions } from './session-hygiene/dirty-sessions.ts';

/**
 * Every query starts on a clean session, tried as a tenant would through the local stack over
 * HTTP: transaction control is refused, SET and temporary tables never reach a later query of the
 * tenant or of another tenant, a reused session inside a failed transaction is replaced (whether
 * Submit Query or Poll Status sees the answer; on PostgreSQL also a transaction really failed on
 * the session), and `statements` run as one batch. Run on each SQL engine; the parts are in
 * test/local/session-hygiene/.
 */
export function describeSessionHygieneSuite(
  engineName: string,
  databaseUrl: () => string | undefined,
): void {
  describe(`Session hygiene, through the local stack on ${engineName}`, () => {
    const suite = hygieneSuite(databaseUrl);

    describeCleanSessions(suite);
    describeDirtySessions(suite, engineName);
    describeBatches(suite);
  });
}
