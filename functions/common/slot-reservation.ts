import { plusSeconds } from './session-record.ts';

/**
 * A reservation of slots (see SessionSlots): what an opener holds for the session it is about to
 * open, and what the session holds once its record names it; how long it holds, and when its
 * opener renews it. Pure rules, read by the pool, the steps and the clean-up alike.
 */

/**
 * How long a reservation holds without a session record: far longer than the step that opens the
 * session can run (SubmitQuery's Lambda timeout, 60 s). SubmitQuery renews a reservation that is
 * older than this minus {@link RESERVATION_RENEW_MARGIN_SECONDS} before it opens a session on it,
 * so an opener that is still running never loses its slot.
 */
export const RESERVATION_SECONDS = 300;
/** Two Lambda timeouts of SubmitQuery: a reservation closer than this to its end is renewed first. */
export const RESERVATION_RENEW_MARGIN_SECONDS = 120;

/** What a session holds, or an opener holds for the session it is about to open. */
export interface SlotReservation {
  claim: string;
  slot: number;
  totalSlot: number;
  /** When the reservation was made or last renewed (ISO 8601). */
  reservedAt: string;
}

/** What a session record says of its slots (see SessionRecord). */
export interface SlotHolder {
  slot?: number;
  total_slot?: number;
  slot_claim?: string;
}

/** Whether a reservation is old enough that its opener must renew it before using it. */
export function reservationNeedsRenewal(reservation: SlotReservation, now: Date): boolean {
  const renewBy = plusSeconds(
    reservation.reservedAt,
    RESERVATION_SECONDS - RESERVATION_RENEW_MARGIN_SECONDS,
  );
  return renewBy <= now;
}

/** The reservation a session record holds, if it holds one. */
export function reservationOf(
  record: SlotHolder & { created_at: string },
): SlotReservation | undefined {
  if (record.slot_claim === undefined || record.slot === undefined) return undefined;
  if (record.total_slot === undefined) return undefined;
  return {
    claim: record.slot_claim,
    slot: record.slot,
    totalSlot: record.total_slot,
    reservedAt: record.created_at,
  };
}
