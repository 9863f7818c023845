/** Invites this device handed out and has not seen used yet (kept so it can check a proof). */
import type { RecordStore } from '../storage/record-store.js';

export interface OutstandingInvite {
  /** inviteId(secret). */
  id: string;
  secret: Uint8Array;
  createdAt: number;
  expiresAt: number;
  /** Optional note for the user ("for Alice"). */
  label?: string;
}

/** What list() shows: everything but the secret. */
export type OutstandingInviteInfo = Omit<OutstandingInvite, 'secret'>;

export function isOutstandingInvite(v: unknown): v is OutstandingInvite {
  const o = v as Partial<OutstandingInvite> | null;
  return (
    typeof o === 'object' &&
    o !== null &&
    typeof o.id === 'string' &&
    o.secret instanceof Uint8Array &&
    typeof o.createdAt === 'number' &&
    typeof o.expiresAt === 'number'
  );
}

export type OutstandingInviteStore = RecordStore<OutstandingInvite>;
