/**
 * The types a DocSet is built and watched with: its listener, its writer and its eviction
 * guard. Kept apart from the class in doc-set.ts (which re-exports them).
 */
import type * as Y from 'yjs';

/** What the DocSet tells its owner (the sync service) and the conversation model. */
export interface DocSetListener {
  /**
   * `doc` is now the doc of `part`: loaded or created, or (`reloaded`) read again from storage
   * after a failed update, so its content may differ from the doc it replaces.
   */
  attached?(part: number, doc: Y.Doc, reloaded: boolean): void;
  /** The hot segment `part` left memory (its doc is destroyed after this call). */
  detached?(part: number, doc: Y.Doc): void;
  /** A segment number became known (stored here, or announced in the head). */
  segmentAdded?(part: number): void;
  /** An update of `part` is durable (counts in the store may have moved). */
  persisted?(part: number): void;
}

/** Who writes the docs: local changes go under client ids of `author` (authorship.ts). */
export interface DocWriter {
  /** None: client ids are Yjs's random ones, claimed by nobody (local-only tests). */
  author?: string;
  /** Picks the claim's slot (default Math.random; seeded in the fuzz tests). */
  random?: () => number;
}

/** Whether a hot segment may leave memory now (e.g. not while an update is being applied). */
export type EvictionGuard = (part: number) => boolean;
