import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { dynamoDbDocumentClient } from '../functions/common/clients.ts';
import { CONFIG_VARIABLES, type Config, loadConfig } from '../functions/common/config.ts';
import { createDeps } from '../functions/common/deps.ts';
import { rethrowTransient } from '../functions/common/errors.ts';
import type { LambdaHandler } from '../functions/common/handler.ts';
import type {
  AcquireResult,
  GiveBackRequest,
  GivenBack,
  OpenedSession,
  PoolExecutions,
  PoolSlots,
  SessionPool,
} from '../functions/common/session-pool.ts';
import type { SessionRecord } from '../functions/common/session-record.ts';
import type { SlotReservation } from '../functions/common/slot-reservation.ts';
import { SessionsTable } from '../functions/common/table-io.ts';
import { internalPoolId, poolIdOf } from '../functions/common/table-keys.ts';
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
const uncounted = (): SlotReservation => ({ ...UNCOUNTED, reservedAt: new Date().toISOString() });

/** Slots that are always free and cost nothing. */
const uncountedSlots: PoolSlots = {
  // Asked only for a spare session, which these designs never ask for.
  reserve: async () => ({ kind: 'tenant-cap' }),
  renew: async () => uncounted(),
  giveBack: async () => {},
};

/** Execution records that are never written: no run of these designs is stopped. */
const unrecordedExecutions: PoolExecutions = {
  holdReservation: async () => ({ previous: undefined }),
  beginOpening: async () => ({ untouched: true }),
  beginSubmission: async () => ({ previous: undefined, heldReservation: true }),
  recordStatement: async () => true,
  markStopped: async (executionArn, run) => {
    const now = new Date().toISOString();
    return {
      pool_id: internalPoolId('execution', executionArn),
      session_id: 'execution',
      execution_arn: executionArn,
      stopped_run: run,
      stopped_at: now,
      updated_at: now,
      expires_at: now,
      ttl: 0,
    };
  },
  read: async () => undefined,
};

/** A miss that opens a session (on no counted slot). */
const openingMiss = (): AcquireResult => ({
  kind: 'miss',
  expiredRemoved: 0,
  waitedMs: 0,
  reservation: uncounted(),
});

/**
 * A design without a pool: no slots counted, no executions recorded, and no session ever leased,
 * so nothing is listed, leased, renewed or unleased. Each design says how it hands out, records,
 * releases and drops a session.
 */
abstract class PoollessDesign implements SessionPool {
  readonly slots = uncountedSlots;
  readonly executions = unrecordedExecutions;

  abstract acquire(tenantId: string, dbUser: string): Promise<AcquireResult>;
  abstract recordNewSession(opened: OpenedSession): Promise<SessionRecord>;
  abstract release(): Promise<boolean>;
  abstract invalidate(tenantId: string, dbUser: string, sessionId: string): Promise<boolean>;

  async listPool(): Promise<SessionRecord[]> {
    return [];
  }

  isLeasableFor(): boolean {
    return false;
  }

  async tryLease(): Promise<undefined> {
    return undefined;
  }

  async renewLease(): Promise<boolean> {
    return true;
  }

  /** No pool to keep a spare session in. */
  async recordIdleSession(): Promise<undefined> {
    return undefined;
  }

  async unlease(): Promise<boolean> {
    return false;
  }

  /** The refused session is dropped as the design drops it; its replacement is opened as always. */
  async replaceRefusedSession(
    tenantId: string,
    dbUser: string,
    sessionId: string,
  ): Promise<SlotReservation> {
    await this.invalidate(tenantId, dbUser, sessionId);
    return uncounted();
  }

  async giveBackUnlessHeld(): Promise<void> {}

  /**
   * No lease to find: only the sessions the caller names are given back, dropped as the design
   * drops a session unless nothing ran on them.
   */
  async giveBack(request: GiveBackRequest): Promise<GivenBack> {
    const given: GivenBack = { unleased: [], released: [], dropped: [] };
    if (request.use.kind === 'unused') return given;
    for (const { session_id } of request.sessions ?? [])
      if (await this.invalidate(request.tenantId, request.dbUser, session_id))
        given.dropped.push(session_id);
    return given;
  }
}

/**
 * No reuse: every query opens a session and nothing is kept. Acquire always reports a miss and
 * nothing is written to DynamoDB; the session is dropped when the query ends (its keep-alive,
 * set to 1 second for this variant, closes it on the Data API's side, since the Data API has no
 * call that closes a session). Making no DynamoDB requests at all is the cheapest form of this
 * design, so the comparison is in its favour.
 */
export class NoReuseStore extends PoollessDesign {
  async acquire(): Promise<AcquireResult> {
    return openingMiss();
  }

  async recordNewSession({ tenantId, dbUser, sessionId }: OpenedSession): Promise<SessionRecord> {
    return recordOf(tenantId, dbUser, sessionId, new Date().toISOString());
  }

  /** Dropped, not returned to any pool. */
  async release(): Promise<boolean> {
    return false;
  }

  async invalidate(): Promise<boolean> {
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
export class SingleSessionStore extends PoollessDesign {
  private readonly table: SessionsTable;

  constructor(documents: DynamoDBDocumentClient, tableName: string) {
    super();
    this.table = new SessionsTable(documents, tableName);
  }

  private key(tenantId: string, dbUser: string) {
    return { pool_id: `single#${poolIdOf(tenantId, dbUser)}`, session_id: 'cached' };
  }

  async acquire(tenantId: string, dbUser: string): Promise<AcquireResult> {
    let item: Record<string, unknown> | undefined;
    try {
      const result = await this.table.ddb.send(
        new GetCommand({
          TableName: this.table.name,
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

  async recordNewSession({ tenantId, dbUser, sessionId }: OpenedSession): Promise<SessionRecord> {
    const createdAt = new Date().toISOString();
    const cached = { ...this.key(tenantId, dbUser), cached_session_id: sessionId };
    await this.table.write(
      { Put: { Item: { ...cached, created_at: createdAt } } },
      'DynamoDB PutItem (cached session)',
    );
    return recordOf(tenantId, dbUser, sessionId, createdAt);
  }

  async release(): Promise<boolean> {
    return true;
  }

  /** Drops the cached session if it is still the refused one (another query may have replaced it). */
  async invalidate(tenantId: string, dbUser: string, sessionId: string): Promise<boolean> {
    const deleted = await this.table.write(
      {
        Delete: {
          Key: this.key(tenantId, dbUser),
          ConditionExpression: 'cached_session_id = :refused',
          ExpressionAttributeValues: { ':refused': sessionId },
        },
      },
      'DynamoDB DeleteItem (cached session)',
    );
    return deleted !== undefined;
  }
}

/** Config of the baselines that poll without long-polling, as the public samples do. */
export const NO_LONG_POLL = {
  [CONFIG_VARIABLES.submitWait]: '0',
  [CONFIG_VARIABLES.pollWait]: '0',
};

/** The no-reuse variant's sessions close 1 s after their statement: nothing would reuse them. */
export const NO_REUSE_KEEP_ALIVE = { [CONFIG_VARIABLES.keepAlive]: '1' };

/**
 * The single-session design's handlers. Each variant's handlers come from a factory of its own
 * (an export taking no arguments), which the local stack's function threads build by name
 * (local/stepfunctions/function-threads.ts), as they build the real ones.
 */
export async function singleSessionHandlers(): Promise<
  Record<WorkflowFunctionName, LambdaHandler>
> {
  const single = configWith({});
  return handlersFor(
    createDeps(single, {
      store: new SingleSessionStore(dynamoDbDocumentClient, single.sessionsTableName),
    }),
  );
}

/** The no-reuse design's handlers (see {@link singleSessionHandlers}). */
export async function noReuseHandlers(): Promise<Record<WorkflowFunctionName, LambdaHandler>> {
  return handlersFor(createDeps(configWith(NO_REUSE_KEEP_ALIVE), { store: new NoReuseStore() }));
}

/** The factory of each variant's handlers, by export name (see {@link singleSessionHandlers}). */
export const VARIANT_HANDLERS = {
  singleSession: 'singleSessionHandlers',
  noReuse: 'noReuseHandlers',
  fixedWait: 'fixedWaitHandlers',
} as const;

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
