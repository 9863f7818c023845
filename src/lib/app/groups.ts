/**
 * Group helpers for the group service (group-service.ts): name rules, errors, and noticing
 * members added by someone else.
 *
 * ```ts
 * const name = cleanGroupName(input); // trimmed; throws InvalidGroupNameError
 * const watch = createMemberWatch();
 * for (const peer of watch.added(groupId, conv.members())) sync.resync(peer);
 * ```
 */
import { MAX_GROUP_NAME_LENGTH } from '../core/limits.js';

export { MAX_GROUP_NAME_LENGTH };

/** The group name is empty or too long. The message says which, in words. */
export class InvalidGroupNameError extends Error {
  override name = 'InvalidGroupNameError';
}

/** The conversation is not a group this device belongs to. */
export class UnknownGroupError extends Error {
  override name = 'UnknownGroupError';
}

/** Someone to add is not a (non-blocked) contact of this device. */
export class NotAContactError extends Error {
  override name = 'NotAContactError';
}

/** The name to store: trimmed, non-empty, at most MAX_GROUP_NAME_LENGTH characters. */
export function cleanGroupName(name: string): string {
  const trimmed = typeof name === 'string' ? name.trim() : '';
  if (trimmed === '') throw new InvalidGroupNameError('Give the group a name.');
  if ([...trimmed].length > MAX_GROUP_NAME_LENGTH) {
    throw new InvalidGroupNameError(
      `A group name can be at most ${MAX_GROUP_NAME_LENGTH} characters.`
    );
  }
  return trimmed;
}

export interface MemberWatch {
  /**
   * Members of `groupId` that were not in it the last time this was called for it. The first
   * call for a group only records its members and returns nothing.
   */
  added(groupId: string, members: string[]): string[];
  forget(groupId: string): void;
}

export function createMemberWatch(): MemberWatch {
  const seen = new Map<string, Set<string>>();
  return {
    added(groupId, members) {
      const before = seen.get(groupId);
      seen.set(groupId, new Set(members));
      if (before === undefined) return [];
      return members.filter((m) => !before.has(m));
    },
    forget(groupId) {
      seen.delete(groupId);
    }
  };
}
