/** Limits and tunables of the files subsystem (defaults; `createFiles` takes overrides). */

/**
 * What bitswap accepts from a connected peer: few streams, messages of a few blocks, a bounded
 * want list (a peer's input costs about its own size).
 */
export const BITSWAP_LIMITS = {
  maxInboundStreams: 32,
  maxOutboundStreams: 32,
  // Outgoing messages are packed up to this size: one 1 MiB block of a public file must fit
  // (bitswap sends nothing, forever, when one block is bigger than the limit), well under what
  // the other side accepts.
  maxOutgoingMessageSize: 1024 * 1024 + 64 * 1024,
  maxIncomingMessageSize: 2 * 1024 * 1024 + 64 * 1024,
  maxWantlistSize: 1024,
  // Bitswap does not send a block again within this window by default (5 s): a transfer that
  // was paused (its wants cancelled, blocks in flight dropped) and resumed at once would wait
  // for blocks that never come. Every want here is deliberate: answer each one.
  doNotResendBlockWindow: 0
} as const;

/**
 * Blocks asked for at once while fetching a file (×256 KiB in flight). Bitswap answers a want
 * list with one message holding every block it asks for, and the receiving stream buffers at
 * most 4 MiB before bitswap reads it (it closes its write side first): 16 blocks overflow that
 * and the stream is dropped, so at most 8 (2 MiB) are asked for.
 */
export const FETCH_CONCURRENCY = 8;

/** A provider that delivers nothing for this long while asked for a block is dropped. */
export const STALL_MS = 15_000;

/** Links in one dag-pb node the walker follows (the importer writes at most 1,024). */
export const MAX_LINKS = 1024;

/** Deepest DAG walked (1,024 links per level: 3 levels hold 256 TiB of 256 KiB blocks). */
export const MAX_DEPTH = 4;

/** Biggest block accepted (the importer writes 256 KiB + 16 encrypted and 1 MiB public ones). */
export const MAX_BLOCK_BYTES = 1024 * 1024 + 1024;
