import * as z from 'zod';
import { dynamoDbDocumentClient } from '#common/clients';
import { loadConfig } from '#common/config';
import { sessionPolicyOf } from '#common/deps';
import { stepHandler } from '#common/handler';
import { type Telemetry, telemetry } from '#common/observability';
import { SessionSweeper } from '#common/session-sweeper';

export interface CleanupOutcome {
  deleted: number;
}

/**
 * The clean-up works with the one store that may scan the table; tests pass their own. It builds
 * its own instead of the workflow functions' `defaultDeps`, which would carry the Data API client
 * into a bundle that never calls it.
 */
export interface CleanupDeps {
  sweeper: SessionSweeper;
  telemetry: Telemetry;
}

const config = loadConfig(process.env);
const defaultCleanupDeps: CleanupDeps = {
  sweeper: new SessionSweeper(
    dynamoDbDocumentClient,
    config.sessionsTableName,
    sessionPolicyOf(config),
    () => new Date(),
  ),
  telemetry,
};

/**
 * Runs on a schedule: deletes the records of sessions that can no longer be reused and that no
 * live lease holds. DynamoDB TTL would delete them too, but only within days; until then they
 * cost a read in every AcquireSession of their tenant.
 */
export async function cleanupSessions(deps: CleanupDeps): Promise<CleanupOutcome> {
  const deleted = await deps.sweeper.cleanupExpiredSessions();
  deps.telemetry.logger.info('Deleted expired session records', { deleted });
  return { deleted };
}

// The schedule's event says nothing the clean-up needs.
export const handler = stepHandler((_event: unknown, deps: CleanupDeps) => cleanupSessions(deps), {
  step: 'CleanupSessions',
  state: z.unknown(),
  deps: defaultCleanupDeps,
});
