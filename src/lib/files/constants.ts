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
  // What a peer's wants can make us read: bitswap reads every block wanted into one message
  // (up to 32 x 1 MiB public blocks). A fetch here wants at most FETCH_CONCURRENCY at once.
  maxWantlistSize: 32,
  // Bitswap does not send a block again within this window by default (5 s): a transfer that
  // was paused (its wants cancelled, blocks in flight dropped) and resumed at once would wait
  // for blocks that never come. Every want here is deliberate: answer each one.
  doNotResendBlockWindow: 0
} as const;

/**
 * Blocks asked for at once while fetching a file, and their bytes (the smaller bound wins: 16
 * sealed 256 KiB blocks, or 4 public 1 MiB ones). Bitswap sends the blocks to one peer on one
 * stream (kept open between messages: patches/@helia+bitswap), whose start is buffered before
 * the other side reads it (it waits for its own close to be acknowledged first); a stream drops
 * past its read buffer (16 MiB on direct connections, p2p/libp2p-options.ts). Measured in the
 * bench's profile (4 runs each, 64 MiB, IndexedDB on both sides): 8 in flight 3.75-4.34 MB/s
 * (mean 3.93), 16: 3.74-4.40 (4.15), 24: 3.97-4.41 (4.17). A bitswap round trip costs ~20 ms
 * (memory stores; ~40 ms with a new stream per message) against a 1.4 ms stream echo, so a
 * bigger window keeps the connection busier; 24 gains no more. (Earlier runs lost a provider at
 * 24: the lost-want races patched in patches/@helia+bitswap.)
 */
export const FETCH_CONCURRENCY = 16;
export const FETCH_WINDOW_BYTES = 4 * 1024 * 1024 + 256 * 1024;

/**
 * A provider that delivers nothing for this long while asked for a block is dropped. A block is
 * asked for once more first, after a third of it (a want can be lost).
 */
export const STALL_MS = 15_000;

/** Links in one dag-pb node the walker follows (the importer writes at most 1,024). */
export const MAX_LINKS = 1024;

/** Deepest DAG walked (1,024 links per level: 3 levels hold 256 TiB of 256 KiB blocks). */
export const MAX_DEPTH = 4;

/** Biggest block accepted (the importer writes 256 KiB + 16 encrypted and 1 MiB public ones). */
export const MAX_BLOCK_BYTES = 1024 * 1024 + 1024;

/**
 * Bytes of blocks the app's IndexedDB blockstore holds unwritten while puts go on (`add` and
 * `fetch` flush before they report success). Waiting for each commit held a fetch slot ~45 ms
 * per block under load (0.8 ms now); two batches of 8 MiB keep the writes streaming.
 */
export const WRITE_BEHIND_BYTES = 16 * 1024 * 1024;
