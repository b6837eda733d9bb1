import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
} from '@aws-sdk/lib-dynamodb';
import { dynamoDbDocumentClient } from '../functions/common/clients.ts';
import { CONFIG_VARIABLES, type Config, loadConfig } from '../functions/common/config.ts';
import { createDeps, sessionPolicyOf } from '../functions/common/deps.ts';
import { rethrowTransient } from '../functions/common/errors.ts';
import { ExecutionRecords } from '../functions/common/execution-record.ts';
import type { LambdaHandler } from '../functions/common/handler.ts';
import type { AcquireResult, SessionPolicy } from '../functions/common/session-pool.ts';
import type { SessionRecord } from '../functions/common/session-record.ts';
import { SessionSlots } from '../functions/common/session-slots.ts';
import { SessionStore } from '../functions/common/session-store.ts';
import type { SlotReservation } from '../functions/common/slot-reservation.ts';
import { poolIdOf } from '../functions/common/table-keys.ts';
import { handlersFor, type WorkflowFunctionName } from '../functions/registry.ts';
import { STATES } from '../statemachine/definition.ts';

/**
 * The designs Spectra is measured against, as variants of its own workflow: the same core
 * functions and the same definition, changed only where the design differs, so that a difference
 * in the figures comes from the design and nothing else.
 *
 * This module imports the functions, whose modules build their SDK clients and read their
 * configuration on load: import it only once the local stack has set the environment.
 */

/** How the workflow waits for the statement. */
export type PollingVariant = 'spectra' | 'fixed5s' | 'fixed1s';
/** How the workflow gets a session. */
export type SessionVariant = 'spectra' | 'singleSession' | 'noReuse';

interface AslState {
  Type: string;
  [field: string]: unknown;
}
interface AslDefinition {
  States: Record<string, AslState>;
  [field: string]: unknown;
}
interface ChoiceRule {
  Variable?: string;
  Next: string;
  [field: string]: unknown;
}

const WAIT_STATE = STATES.waitForQuery;
const CHOICE_STATE = STATES.queryFinished;
const POLL_STATE = STATES.poll;

function stateOf(definition: AslDefinition, name: string, type: string): AslState {
  const state = definition.States[name];
  if (state?.Type !== type) {
    throw new Error(
      `statemachine/query.asl.json has no ${type} state "${name}"; the benchmark's polling variants rewrite it and must follow the definition`,
    );
  }
  return state;
}

/**
 * The polling loop of the public samples, built from Spectra's definition (already substituted):
 * "Wait For Query" waits a fixed `seconds`, and "Query Finished?" always goes through it (Spectra's
 * rule that skips the Wait when the server already waited is removed). Everything else is left as
 * it is, so the same states and the same functions run.
 */
export function fixedWaitDefinition(definitionText: string, seconds: number): string {
  const definition = JSON.parse(definitionText) as AslDefinition;
  const wait = stateOf(definition, WAIT_STATE, 'Wait');
  const choice = stateOf(definition, CHOICE_STATE, 'Choice');
  const choices = choice.Choices as ChoiceRule[];
  const skipsWait = choices.filter((rule) => rule.Next === POLL_STATE);
  if (skipsWait.length !== 1 || skipsWait[0]?.Variable !== '$.statement.waitSeconds') {
    throw new Error(
      `"${CHOICE_STATE}" was expected to have one rule going straight to "${POLL_STATE}" on $.statement.waitSeconds`,
    );
  }
  choice.Choices = choices.filter((rule) => rule.Next !== POLL_STATE);
  definition.States[WAIT_STATE] = {
    Type: 'Wait',
    Comment: `A fixed ${seconds}-second wait before every poll (benchmark baseline).`,
    Seconds: seconds,
    Next: wait.Next,
  };
  return JSON.stringify(definition);
}

/** Deps with `config` read from the environment plus `overrides`, as a function would load them. */
export function configWith(overrides: Record<string, string>): Config {
  return loadConfig({ ...process.env, ...overrides });
}

/** A session record for the core functions when the design keeps none (or keeps it elsewhere). */
function recordOf(tenantId: string, dbUser: string, sessionId: string, createdAt: string) {
  return {
    pool_id: poolIdOf(tenantId, dbUser),
    session_id: sessionId,
    tenant_id: tenantId,
    db_user: dbUser,
    created_at: createdAt,
    last_used_at: createdAt,
    expires_at: createdAt,
    ttl: 0,
    state: 'IDLE',
  } satisfies SessionRecord;
}

/**
 * The designs below keep no pool, so there is nothing to cap and no lease for a stop to give
 * back: their slots are never counted and their executions leave no record. Each opens a session
 * whenever it has none, on this reservation.
 */
const UNCOUNTED: SlotReservation = { claim: 'uncounted', slot: 0, totalSlot: 0, reservedAt: '' };

/** Slots that are always free and cost nothing. */
class UncountedSlots extends SessionSlots {
  override async renew(): Promise<SlotReservation> {
    return { ...UNCOUNTED, reservedAt: new Date().toISOString() };
  }

  override async giveBack(): Promise<void> {}
}

/** Execution records that are never written: no run of these designs is stopped. */
class UnrecordedExecutions extends ExecutionRecords {
  override async holdReservation(): Promise<{ previous: undefined }> {
    return { previous: undefined };
  }

  override async confirmRun(): Promise<boolean> {
    return true;
  }

  override async beginOpening(): Promise<{ untouched: true }> {
    return { untouched: true };
  }

  override async beginSubmission(): Promise<{ previous: undefined; heldReservation: true }> {
    return { previous: undefined, heldReservation: true };
  }

  override async recordStatement(): Promise<boolean> {
    return true;
  }

  override async read(): Promise<undefined> {
    return undefined;
  }
}

/** A store of one of the designs without a pool: no slots counted, no executions recorded. */
abstract class PoollessStore extends SessionStore {
  override readonly slots: SessionSlots;
  override readonly executions: ExecutionRecords;

  constructor(documents: DynamoDBDocumentClient, table: string, policy: SessionPolicy) {
    super(documents, table, policy);
    this.slots = new UncountedSlots(documents, table, { perTenant: 1, total: 1, target: '' });
    this.executions = new UnrecordedExecutions(documents, table);
  }

  /** The refused session is dropped as the design drops it; its replacement is opened as always. */
  override async replaceRefusedSession(
    tenantId: string,
    dbUser: string,
    sessionId: string,
    owner: string,
  ): Promise<SlotReservation> {
    await this.invalidate(tenantId, dbUser, sessionId, owner);
    return { ...UNCOUNTED, reservedAt: new Date().toISOString() };
  }
}

/** A miss that opens a session (on no counted slot). */
const openingMiss = (): AcquireResult => ({
  kind: 'miss',
  expiredRemoved: 0,
  waitedMs: 0,
  reservation: { ...UNCOUNTED, reservedAt: new Date().toISOString() },
});

/**
 * No reuse: every query opens a session and nothing is kept. Acquire always reports a miss and
 * nothing is written to DynamoDB; the session is dropped when the query ends (its keep-alive,
 * set to 1 second for this variant, closes it on the Data API's side, since the Data API has no
 * call that closes a session). Making no DynamoDB requests at all is the cheapest form of this
 * design, so the comparison is in its favour.
 */
export class NoReuseStore extends PoollessStore {
  override async acquire(): Promise<AcquireResult> {
    return openingMiss();
  }

  override async recordNewSession(
    tenantId: string,
    dbUser: string,
    sessionId: string,
  ): Promise<SessionRecord> {
    return recordOf(tenantId, dbUser, sessionId, new Date().toISOString());
  }

  override async renewLease(): Promise<boolean> {
    return true;
  }

  /** Dropped, not returned to any pool. */
  override async release(): Promise<boolean> {
    return false;
  }

  override async invalidate(): Promise<boolean> {
    return false;
  }
}

/**
 * The simple design: one cached session per tenant, no lease. Acquire hands out the tenant's
 * cached session whatever its state (one GetItem); a new session overwrites the cache (one
 * PutItem, last writer wins); release and polling write nothing. When the Data API refuses the
 * cached session (`Session is not available`, which is what a busy session gets), the workflow's
 * Invalidate Session drops it (a conditional DeleteItem) and the resubmission opens and caches a
 * new one.
 *
 * The cache item lives in the sessions table under its own partition (`single#<pool>`), so it
 * never mixes with Spectra's pool.
 */
export class SingleSessionStore extends PoollessStore {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly table: string,
    policy: SessionPolicy,
  ) {
    super(documents, table, policy);
  }

  private key(tenantId: string, dbUser: string) {
    return { pool_id: `single#${poolIdOf(tenantId, dbUser)}`, session_id: 'cached' };
  }

  override async acquire(tenantId: string, dbUser: string): Promise<AcquireResult> {
    let item: Record<string, unknown> | undefined;
    try {
      const result = await this.documents.send(
        new GetCommand({
          TableName: this.table,
          Key: this.key(tenantId, dbUser),
          ConsistentRead: true,
        }),
      );
      item = result.Item;
    } catch (error) {
      rethrowTransient(error, 'DynamoDB GetItem (cached session)');
    }
    if (item === undefined || typeof item.cached_session_id !== 'string') return openingMiss();
    return {
      kind: 'hit',
      session: recordOf(tenantId, dbUser, item.cached_session_id, String(item.created_at)),
      expiredRemoved: 0,
      waitedMs: 0,
    };
  }

  override async recordNewSession(
    tenantId: string,
    dbUser: string,
    sessionId: string,
  ): Promise<SessionRecord> {
    const createdAt = new Date().toISOString();
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            ...this.key(tenantId, dbUser),
            cached_session_id: sessionId,
            created_at: createdAt,
          },
        }),
      );
    } catch (error) {
      rethrowTransient(error, 'DynamoDB PutItem (cached session)');
    }
    return recordOf(tenantId, dbUser, sessionId, createdAt);
  }

  override async renewLease(): Promise<boolean> {
    return true;
  }

  override async release(): Promise<boolean> {
    return true;
  }

  /** Drops the cached session if it is still the refused one (another query may have replaced it). */
  override async invalidate(tenantId: string, dbUser: string, sessionId: string): Promise<boolean> {
    try {
      await this.documents.send(
        new DeleteCommand({
          TableName: this.table,
          Key: this.key(tenantId, dbUser),
          ConditionExpression: 'cached_session_id = :refused',
          ExpressionAttributeValues: { ':refused': sessionId },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      return rethrowTransient(error, 'DynamoDB DeleteItem (cached session)');
    }
  }
}

/** Config of the baselines that poll without long-polling, as the public samples do. */
export const NO_LONG_POLL = {
  [CONFIG_VARIABLES.submitWait]: '0',
  [CONFIG_VARIABLES.pollWait]: '0',
};

/** The no-reuse variant's sessions close 1 s after their statement: nothing would reuse them. */
export const NO_REUSE_KEEP_ALIVE = { [CONFIG_VARIABLES.keepAlive]: '1' };

/** The handlers of each session variant other than Spectra (which runs the real handlers). */
export async function sessionVariantHandlers(): Promise<
  Record<Exclude<SessionVariant, 'spectra'>, Record<WorkflowFunctionName, LambdaHandler>>
> {
  const single = configWith({});
  const noReuse = configWith(NO_REUSE_KEEP_ALIVE);
  return {
    singleSession: await handlersFor(
      createDeps(single, {
        store: new SingleSessionStore(
          dynamoDbDocumentClient,
          single.sessionsTableName,
          sessionPolicyOf(single),
        ),
      }),
    ),
    noReuse: await handlersFor(
      createDeps(noReuse, {
        store: new NoReuseStore(
          dynamoDbDocumentClient,
          noReuse.sessionsTableName,
          sessionPolicyOf(noReuse),
        ),
      }),
    ),
  };
}

/**
 * The handlers of the fixed-wait polling baselines: Spectra's pool, no long-polling, on `clock`
 * (the functions' default: the machine's). Their Poll Status is handed a state that counts no
 * history events: the public samples' loop has no guard against the history limit, and meets it.
 */
export async function fixedWaitHandlers(
  clock?: () => Date,
): Promise<Record<WorkflowFunctionName, LambdaHandler>> {
  const handlers = await handlersFor(createDeps(configWith(NO_LONG_POLL), clock ? { clock } : {}));
  const poll = handlers.PollStatus;
  return {
    ...handlers,
    PollStatus: (event, context) =>
      poll({ ...(event as Record<string, unknown>), historyEventsBound: 0 }, context),
  };
}
