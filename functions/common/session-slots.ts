import { randomUUID } from 'node:crypto';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { epochSeconds, iso, plusSeconds } from './session-record.ts';
import { RESERVATION_SECONDS, type SlotHolder, type SlotReservation } from './slot-reservation.ts';
import { SessionsTable } from './table-io.ts';
import { internalPoolId, MAX_SESSION_AGE_SECONDS, poolIdOf } from './table-keys.ts';

/**
 * The slots that cap how many sessions the pools hold: a session is opened only on a slot reserved
 * for it, atomically, before the Data API is asked. Two kinds, each a set of numbered items where
 * the number is the sort key, so that at most `cap` of them can exist and no interleaving of
 * writers can hold more:
 *
 * - a tenant's slots, `#slot#<pool id>` / `0` … `SPECTRA_MAX_SESSIONS_PER_TENANT - 1`;
 * - the cluster's or workgroup's, `#total-slot#<target>` / `0` … `SPECTRA_MAX_SESSIONS_TOTAL - 1`.
 *
 * A reservation takes one of each under one random `claim`. The session record that the opener
 * writes names its slots and the claim; from then on the session holds them, and they are given
 * back (deleted, conditional on the claim) when the session leaves the pool: invalidate, expiry, a
 * failed open, the clean-up. A reservation whose opener vanished before it recorded a session is
 * reclaimable once its `expires_at` has passed and no session record holds its claim: by an
 * acquirer of the same tenant (which has just read the pool) for a tenant slot, by the scheduled
 * sweep for both kinds.
 */

export type ReserveOutcome =
  | {
      kind: 'reserved';
      reservation: SlotReservation;
      /**
       * A slot that no record of the pool holds was taken by a live reservation: another query of
       * the tenant is opening a session, which joins the pool once it is open.
       */
      othersOpening: boolean;
    }
  /** Every slot of the tenant is held by a session or a live reservation. */
  | { kind: 'tenant-cap' }
  /** Every slot of the cluster or workgroup is held. */
  | { kind: 'total-cap' };

export interface SlotCaps {
  perTenant: number;
  total: number;
  /** The cluster or workgroup whose sessions the total cap counts (see {@link totalSlotsKeyOf}). */
  target: string;
}

/** A slot item as stored. */
export interface SlotItem {
  pool_id: string;
  /** The slot's number, as text (the table's sort key is a string). */
  session_id: string;
  claim: string;
  owner: string;
  /** The tenant pool the slot is for. */
  pool: string;
  reserved_at: string;
  expires_at: string;
  /** Never before a session on the slot could have closed by itself (24 h after it opened). */
  ttl: number;
}

const tenantSlotsPartition = (tenantId: string, dbUser: string) =>
  internalPoolId('slot', poolIdOf(tenantId, dbUser));
const totalSlotsPartition = (target: string) => internalPoolId('total-slot', target);

export class SessionSlots {
  private readonly table: SessionsTable;

  constructor(
    ddb: DynamoDBDocumentClient,
    tableName: string,
    private readonly caps: SlotCaps,
    private readonly clock: () => Date = () => new Date(),
    private readonly random: () => number = Math.random,
  ) {
    this.table = new SessionsTable(ddb, tableName);
  }

  /**
   * Reserves a tenant slot and a total slot for a session that `owner` is about to open. `pool` is
   * the tenant's pool as the caller just read it: the slots its records hold are not tried, and a
   * lapsed reservation that no record holds is taken over. The tenant slot first: at the tenant's
   * cap nothing is written.
   */
  async reserve(
    tenantId: string,
    dbUser: string,
    owner: string,
    pool: readonly SlotHolder[],
  ): Promise<ReserveOutcome> {
    const claim = randomUUID();
    const now = this.clock();
    const held = new Set(
      pool.flatMap((record) => (record.slot === undefined ? [] : [record.slot])),
    );
    // Below the cap as the pool's records show it, a total slot picked at random is put beside the
    // tenant slot: one round trip instead of two, and given back if the tenant slot is not had. At
    // the cap the tenant slot goes first, so that a query waiting there writes nothing.
    const guess = Math.floor(this.random() * this.caps.total);
    const [tenant, guessed] = await Promise.all([
      this.reserveTenantSlot(tenantId, dbUser, owner, claim, pool, now),
      held.size < this.caps.perTenant
        ? this.putSlot(this.totalSlotItem(guess, tenantId, dbUser, owner, claim, now))
        : Promise.resolve(undefined),
    ]);
    const total = totalSlotsPartition(this.caps.target);
    if (tenant.slot === undefined) {
      if (guessed === true) await this.deleteSlot(total, guess, claim);
      return { kind: 'tenant-cap' };
    }
    const totalSlot = guessed
      ? guess
      : await this.reserveTotalSlot(tenantId, dbUser, owner, claim, now, guessed === undefined);
    if (totalSlot === undefined) {
      await this.deleteSlot(tenantSlotsPartition(tenantId, dbUser), tenant.slot, claim);
      return { kind: 'total-cap' };
    }
    return {
      kind: 'reserved',
      reservation: { claim, slot: tenant.slot, totalSlot, reservedAt: iso(now) },
      othersOpening: tenant.othersOpening,
    };
  }

  /**
   * Renews a reservation for another {@link RESERVATION_SECONDS}. Undefined when it was lost
   * (it lapsed and another opener took a slot over): then whatever part of it is left is given
   * back, and the caller must not open a session on it.
   */
  async renew(
    tenantId: string,
    dbUser: string,
    reservation: SlotReservation,
  ): Promise<SlotReservation | undefined> {
    const now = this.clock();
    const renewed = await Promise.all([
      this.renewSlot(tenantSlotsPartition(tenantId, dbUser), reservation.slot, reservation, now),
      this.renewSlot(
        totalSlotsPartition(this.caps.target),
        reservation.totalSlot,
        reservation,
        now,
      ),
    ]);
    if (renewed.every(Boolean)) return { ...reservation, reservedAt: iso(now) };
    await this.giveBack(tenantId, dbUser, reservation);
    return undefined;
  }

  /**
   * Gives back both slots of a reservation (a session that left the pool, or one that was never
   * opened), each only while it still carries the reservation's claim. Never throws: a slot left
   * behind is reclaimed once its reservation has lapsed (see the module comment), and failing a
   * query over it would be the worse outcome.
   */
  async giveBack(
    tenantId: string,
    dbUser: string,
    reservation: Pick<SlotReservation, 'claim' | 'slot' | 'totalSlot'>,
  ): Promise<void> {
    await Promise.all([
      this.deleteSlot(tenantSlotsPartition(tenantId, dbUser), reservation.slot, reservation.claim),
      this.deleteSlot(
        totalSlotsPartition(this.caps.target),
        reservation.totalSlot,
        reservation.claim,
      ),
    ]);
  }

  /**
   * The first free slot of the tenant, and whether a slot that no record of `pool` holds was found
   * taken by a reservation that has not lapsed (another opener of the tenant).
   */
  private async reserveTenantSlot(
    tenantId: string,
    dbUser: string,
    owner: string,
    claim: string,
    pool: readonly SlotHolder[],
    now: Date,
  ): Promise<{ slot: number | undefined; othersOpening: boolean }> {
    const partition = tenantSlotsPartition(tenantId, dbUser);
    const held = new Set(pool.map((record) => record.slot));
    const item = (slot: number) =>
      this.slotItem(partition, slot, claim, owner, tenantId, dbUser, now);
    let taken = false;
    for (let slot = 0; slot < this.caps.perTenant; slot++) {
      if (held.has(slot)) continue;
      if (await this.putSlot(item(slot))) return { slot, othersOpening: taken };
      taken = true;
    }
    // Every free-looking slot is taken: by live reservations of openers, or by reservations whose
    // opener vanished, which no record of the pool holds and which are taken over once lapsed.
    const claims = new Set(pool.map((record) => record.slot_claim));
    let othersOpening = false;
    for (const existing of await this.readSlots(partition)) {
      const slot = Number(existing.session_id);
      if (slot >= this.caps.perTenant || held.has(slot) || claims.has(existing.claim)) continue;
      if (existing.expires_at > iso(now)) {
        othersOpening = true;
        continue;
      }
      if (await this.putSlot(item(slot), existing.claim)) return { slot, othersOpening };
    }
    return { slot: undefined, othersOpening };
  }

  /**
   * A free total slot. `guess`: whether to put one picked at random before reading the slots
   * (the caller has not tried one yet): below the cap most are free, and the read of every slot
   * costs more than a put that fails.
   */
  private async reserveTotalSlot(
    tenantId: string,
    dbUser: string,
    owner: string,
    claim: string,
    now: Date,
    guess: boolean,
  ): Promise<number | undefined> {
    const partition = totalSlotsPartition(this.caps.target);
    const item = (slot: number) => this.totalSlotItem(slot, tenantId, dbUser, owner, claim, now);
    if (guess) {
      const slot = Math.floor(this.random() * this.caps.total);
      if (await this.putSlot(item(slot))) return slot;
    }
    // Every put that fails means another opener took that slot since the read, so each round
    // either reserves one or sees fewer free; it ends when a read finds none free.
    for (;;) {
      const taken = new Set((await this.readSlots(partition)).map((item) => item.session_id));
      const free: number[] = [];
      for (let slot = 0; slot < this.caps.total; slot++)
        if (!taken.has(String(slot))) free.push(slot);
      if (free.length === 0) return undefined;
      // In a random order, so that openers racing for the last few rarely try the same one.
      for (let i = free.length - 1; i > 0; i--) {
        const j = Math.floor(this.random() * (i + 1));
        [free[i], free[j]] = [free[j] as number, free[i] as number];
      }
      for (const slot of free) if (await this.putSlot(item(slot))) return slot;
    }
  }

  private totalSlotItem(
    slot: number,
    tenantId: string,
    dbUser: string,
    owner: string,
    claim: string,
    now: Date,
  ): SlotItem {
    return this.slotItem(
      totalSlotsPartition(this.caps.target),
      slot,
      claim,
      owner,
      tenantId,
      dbUser,
      now,
    );
  }

  private slotItem(
    partition: string,
    slot: number,
    claim: string,
    owner: string,
    tenantId: string,
    dbUser: string,
    now: Date,
  ): SlotItem {
    return {
      pool_id: partition,
      session_id: String(slot),
      claim,
      owner,
      pool: poolIdOf(tenantId, dbUser),
      reserved_at: iso(now),
      expires_at: iso(plusSeconds(now, RESERVATION_SECONDS)),
      ttl: epochSeconds(plusSeconds(now, MAX_SESSION_AGE_SECONDS + RESERVATION_SECONDS)),
    };
  }

  /** Writes a slot item if the slot is free, or, with `replacing`, still holds that claim. */
  private async putSlot(item: SlotItem, replacing?: string): Promise<boolean> {
    const put = await this.table.write(
      {
        Put: {
          Item: item,
          ...(replacing === undefined
            ? { ConditionExpression: 'attribute_not_exists(pool_id)' }
            : {
                ConditionExpression: 'claim = :seen',
                ExpressionAttributeValues: { ':seen': replacing },
              }),
        },
      },
      'DynamoDB PutItem (slot)',
    );
    return put !== undefined;
  }

  private async renewSlot(
    partition: string,
    slot: number,
    reservation: SlotReservation,
    now: Date,
  ): Promise<boolean> {
    const renewed = await this.table.write(
      {
        Update: {
          Key: { pool_id: partition, session_id: String(slot) },
          ConditionExpression: 'claim = :claim',
          UpdateExpression: 'SET reserved_at = :now, expires_at = :expires, #ttl = :ttl',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: {
            ':claim': reservation.claim,
            ':now': iso(now),
            ':expires': iso(plusSeconds(now, RESERVATION_SECONDS)),
            ':ttl': epochSeconds(plusSeconds(now, MAX_SESSION_AGE_SECONDS + RESERVATION_SECONDS)),
          },
        },
      },
      'DynamoDB UpdateItem (renew slot)',
    );
    return renewed !== undefined;
  }

  private async deleteSlot(partition: string, slot: number, claim: string): Promise<void> {
    try {
      await this.table.write(
        {
          Delete: {
            Key: { pool_id: partition, session_id: String(slot) },
            ConditionExpression: 'claim = :claim',
            ExpressionAttributeValues: { ':claim': claim },
          },
        },
        'DynamoDB DeleteItem (slot)',
      );
    } catch {
      // Already given back, taken over, or DynamoDB failing: see giveBack.
    }
  }

  private async readSlots(partition: string): Promise<SlotItem[]> {
    return this.table.query<SlotItem>(
      { placeholder: ':partition', value: partition },
      'DynamoDB Query (slots)',
    );
  }
}

/** The key the total cap counts a compute target's sessions under. */
export function totalSlotsKeyOf(
  target: { clusterIdentifier: string } | { workgroupName: string },
): string {
  return 'clusterIdentifier' in target
    ? `cluster/${target.clusterIdentifier}`
    : `workgroup/${target.workgroupName}`;
}
