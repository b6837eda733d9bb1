import middy from '@middy/core';
import { defaultDeps, type StepDeps } from '#common/deps';
import { powertoolsMiddlewares } from '#common/observability';

export interface CleanupOutcome {
  deleted: number;
}

/**
 * Runs on a schedule: deletes the records of sessions that can no longer be reused and that no
 * live lease holds. DynamoDB TTL would delete them too, but only within days; until then they
 * cost a read in every AcquireSession of their tenant.
 */
export async function cleanupSessions(deps: StepDeps = defaultDeps): Promise<CleanupOutcome> {
  const deleted = await deps.store.cleanupExpiredSessions();
  deps.telemetry.logger.info('Deleted expired session records', { deleted });
  return { deleted };
}

export const handler = middy<unknown, CleanupOutcome>()
  .use(powertoolsMiddlewares)
  .handler(() => cleanupSessions());
