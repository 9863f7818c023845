/**
 * Limits and tunables of conversations and the sync protocol. Every one that the sync service
 * uses has a matching option in SyncInit; these are only the defaults.
 */
import { inputUnits, MAX_GROUP_NAME_LENGTH, MAX_MESSAGE_UNITS } from '../core/limits.js';

/** Longest message text, in UTF-16 code units. Longer texts are refused (and skipped when read). */
export const MAX_TEXT_LENGTH = MAX_MESSAGE_UNITS;

/**
 * Longest file attachment record of a message (header field `f`), in UTF-16 code units. The
 * record is an opaque string made by the files layer (JSON); the sync layer only bounds it,
 * signs it with the message and keeps it immutable. A header with a longer (or non-string)
 * record is invalid: the message is skipped when read.
 */
export const MAX_FILE_RECORD_LENGTH = 16 * 1024;

/** Longest message, conversation or peer id. */
export const MAX_ID_LENGTH = 128;

/** Longest stored group name, in UTF-16 code units (the app allows MAX_GROUP_NAME_LENGTH characters). */
export const MAX_NAME_LENGTH = inputUnits(MAX_GROUP_NAME_LENGTH);

/** Longest reaction (one emoji can be several code points: flags, skin tones, ZWJ sequences). */
export const MAX_EMOJI_LENGTH = 32;

/**
 * Biggest length-prefixed sync frame accepted or sent. Bigger step2s and updates (10,000
 * messages are ~3 MiB) travel as Part frames. Kept well under the 4 MiB that a libp2p byte
 * stream buffers by default between reads.
 */
export const DEFAULT_MAX_FRAME_BYTES = 256 * 1024;

/** Biggest step2 or update reassembled from Part frames. */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/**
 * Bytes a sync stream may buffer between two reads. A burst (one step2 per conversation on
 * connect) can arrive in one macrotask over fast transports, so this is generous.
 */
export const DEFAULT_READ_BUFFER_BYTES = 32 * 1024 * 1024;

/** Biggest ephemeral payload (presence, typing). */
export const DEFAULT_MAX_EPHEMERAL_BYTES = 4 * 1024;

/** How long a peer that sent a malformed frame or update is ignored. */
export const DEFAULT_MISBEHAVING_MS = 5 * 60_000;

/**
 * Interval of the repair round: frames lost on a connection that stays up (a stream replaced
 * or reset under load) are asked for or sent again within one to two rounds.
 */
export const DEFAULT_REPAIR_INTERVAL_MS = 20_000;

/**
 * Repair rounds a conversation waits for the changes its pending structs need (asking every
 * member online) before it stops waiting: nobody online has them. Live updates then apply
 * again; the gap closes when a device that has them connects.
 */
export const RESYNC_GIVE_UP_ROUNDS = 6;

/** Bytes of frames a peer's outbound queue may hold; past it, waiting data frames are dropped. */
export const MAX_HELD_BYTES = 64 * 1024 * 1024;

/**
 * Share of a limited (relayed) connection's data allowance that sync may write (each side).
 * Relays close connections that go over their limit (1 MiB by default), and the direct
 * WebRTC upgrade is signaled over the same connection: a catch-up bigger than this waits for
 * the direct connection instead of killing the relayed one.
 */
export const LIMITED_CONNECTION_SHARE = 0.25;

/** Inbound sync streams one peer may have open at once. */
export const MAX_INBOUND_SYNC_STREAMS = 4;

/** Opening the outbound sync stream to a peer must finish within this time. */
export const DEFAULT_OPEN_STREAM_TIMEOUT_MS = 10_000;

/** Wire format version: first byte of every frame. */
export const FRAME_VERSION = 1;

/**
 * Messages per segment doc before writers move on to the next one. Opening a conversation
 * loads its head and the segments of its newest messages, never all of them; 1,000 keeps a
 * segment's load (~20 ms) and memory (~1 MiB) small while 100,000 messages are only 100 docs.
 */
export const SEGMENT_MESSAGES = 1_000;

/** Highest segment number accepted (100 million messages). */
export const MAX_SEGMENT = 100_000;

/** Segments kept in memory that are neither the tail nor shown (least recently used go). */
export const MAX_WARM_SEGMENTS = 2;

/** Messages of the window when a stored conversation is opened. */
export const INITIAL_WINDOW = 100;

/** Messages loadOlder() adds by default. */
export const OLDER_PAGE = 200;

/**
 * A window that holds all of a conversation (a short one) and grows past this by sync (a
 * catch-up of thousands of messages) keeps only its newest INITIAL_WINDOW + OLDER_PAGE: older
 * messages stay in storage and their segments may leave memory, as when a long conversation
 * is opened. (Not after the reader scrolled back to the first message.)
 */
export const WINDOW_TRIM_AT = 2 * SEGMENT_MESSAGES;

/**
 * Bytes of Part frames one peer may have assembling at once (all its docs together). Memory
 * for an assembly grows with the bytes that arrived, never with the size a part declares.
 */
export const DEFAULT_MAX_ASSEMBLING_BYTES = 64 * 1024 * 1024;

/**
 * Bytes of step2 answers kept for state vectors asked again (identical step1s cost no new
 * encode while the doc is unchanged).
 */
export const DEFAULT_STEP1_CACHE_BYTES = 8 * 1024 * 1024;

/** State vectors longer than this are answered without the cache (keys stay small). */
export const MAX_CACHED_STATE_VECTOR_BYTES = 1024;

/**
 * Bounds of one Yjs update, checked before Yjs sees it (update-check.ts). Sized to what the
 * app sends: a map value is one clock (a 1,000-message segment snapshot is ~10,000 structs and
 * a few hundred clients), and a GC run merges at most one client's overwritten values.
 */
export const DEFAULT_UPDATE_LIMITS = {
  /** Clients (struct groups) per update. */
  maxClients: 65_536,
  /** Structs per update (GC, Skip and items). */
  maxStructs: 1_000_000,
  /** Delete-set ranges per update. */
  maxDeleteRanges: 1_000_000,
  /**
   * Clocks one struct or deletion range may cover. Far below 2^40 (a GC run that long takes a
   * device's future clocks); 16.7 million overwrites by one session of one doc is more than
   * any device writes.
   */
  maxStructLength: 2 ** 24,
  /** Nested types: messages[id] and receipts[P] are depth 1. */
  maxTypeDepth: 3,
  /**
   * Bytes of one string (a value, a key, a JSON entry): a longest message text or file record
   * in UTF-8, plus room.
   */
  maxStringBytes: 3 * Math.max(MAX_TEXT_LENGTH, MAX_FILE_RECORD_LENGTH) + 4096,
  /** Bytes of one binary value. */
  maxBinaryBytes: 64 * 1024,
  /** Nesting of a plain (Any) value: a header or a claim is depth 1. */
  maxAnyDepth: 8,
  /** Entries of one plain object or array value. */
  maxAnyEntries: 4096
} as const;

export type UpdateLimits = { readonly [K in keyof typeof DEFAULT_UPDATE_LIMITS]: number };

/**
 * How far ahead of this device's clock a received message's HLC wall may be and still move
 * the local HLC (a peer's clock may be off; one set to the year 10889 must not stop sends).
 */
export const MAX_CLOCK_SKEW_MS = 24 * 60 * 60_000;
