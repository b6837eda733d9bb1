/**
 * How the sessions table is keyed, for every kind of item it holds. A tenant's pool is the
 * partition `<tenant>#<db user>`, one item per session (sort key: the session id). Spectra's own
 * items each have a partition of their own, `#<kind>#<id>`, so that none is ever part of a
 * tenant's pool and no tenant's pool is ever taken for one: a tenant id starts with a letter (see
 * the input schema), so no pool id starts with `#`, whatever the tenant id. The session store, the
 * slots and the execution records all key their items here; a new kind of item is added to
 * {@link INTERNAL_ITEM_KINDS} and nowhere else.
 */

/** The Data API force-closes a session 24 hours after it was opened. */
export const MAX_SESSION_AGE_SECONDS = 24 * 60 * 60;

export function poolIdOf(tenantId: string, dbUser: string): string {
  return `${tenantId}#${dbUser}`;
}

/**
 * Spectra's own kinds of item: what an execution holds and whether it was stopped (`execution`),
 * a tenant's session slots (`slot`) and the cluster's or workgroup's (`total-slot`).
 */
export const INTERNAL_ITEM_KINDS = ['execution', 'slot', 'total-slot'] as const;
export type InternalItemKind = (typeof INTERNAL_ITEM_KINDS)[number];

const INTERNAL_KEY_MARK = '#';

/** The partition key of one of Spectra's own items. */
export const internalPoolId = (kind: InternalItemKind, id: string): string =>
  `${INTERNAL_KEY_MARK}${kind}#${id}`;

/** How each kind's partition keys start: `#execution#`, `#slot#`, `#total-slot#`. */
export const INTERNAL_KEY_PREFIXES: readonly string[] = INTERNAL_ITEM_KINDS.map((kind) =>
  internalPoolId(kind, ''),
);

/** Whether an item is one of Spectra's own rather than a tenant's session. */
export const isInternalItem = (item: { pool_id: string }): boolean =>
  item.pool_id.startsWith(INTERNAL_KEY_MARK);

/** The kind of one of Spectra's own items, from its partition key. */
export function internalKindOf(item: { pool_id: string }): InternalItemKind | undefined {
  return INTERNAL_ITEM_KINDS.find((kind) => item.pool_id.startsWith(internalPoolId(kind, '')));
}
