/**
 * Step2s and updates too big for one frame arrive as consecutive Part frames: this puts them
 * back together per peer and doc, notices gaps (lost frames) and stalls (the repair round), and
 * remembers which gaps already asked for a resync (one request at a time per peer and doc).
 *
 * Memory follows the bytes that arrived, never the size a part declares: chunks are kept as
 * they come and joined only when the last one is in, and each peer may have at most
 * `maxPeerBytes` assembling at once (a 26-byte part declaring 64 MiB costs 26 bytes).
 */
import { DEFAULT_MAX_ASSEMBLING_BYTES } from './constants.js';
import type { PartHeader } from './protocol.js';

interface Assembly {
  inner: number;
  total: number;
  received: number;
  chunks: Uint8Array[];
}

export type PartResult =
  /** The last part arrived: the whole payload of the inner frame type. */
  | { type: 'done'; inner: number; payload: Uint8Array }
  /** More parts to come. */
  | { type: 'more' }
  /** A part is missing (lost frames): what the parts carried must be asked for again. */
  | { type: 'gap' }
  /** The peer has more than its budget assembling: its assemblies were dropped. */
  | { type: 'over-budget' };

export interface ReassemblerInit {
  /** Bytes one peer may have assembling at once (default DEFAULT_MAX_ASSEMBLING_BYTES). */
  maxPeerBytes?: number;
}

export class Reassembler {
  private readonly assembling = new Map<string, Assembly>();
  /** Bytes assembling per peer (sum of `received` over the peer's keys). */
  private readonly perPeer = new Map<string, number>();
  /** Keys with a resync asked because parts went missing. */
  private readonly gaps = new Set<string>();
  /** Bytes received per key at the last repair round. */
  private readonly seen = new Map<string, number>();
  private readonly maxPeerBytes: number;

  constructor(init: ReassemblerInit = {}) {
    this.maxPeerBytes = init.maxPeerBytes ?? DEFAULT_MAX_ASSEMBLING_BYTES;
  }

  /** `key` is `${peer}\n${doc}`. */
  add(key: string, part: PartHeader): PartResult {
    let a = this.assembling.get(key);
    if (part.offset === 0) {
      if (a !== undefined) this.remove(key);
      a = { inner: part.inner, total: part.total, received: 0, chunks: [] };
      this.assembling.set(key, a);
    }
    if (
      a === undefined ||
      a.inner !== part.inner ||
      a.total !== part.total ||
      a.received !== part.offset
    ) {
      this.remove(key);
      return { type: 'gap' };
    }
    const peer = peerOf(key);
    const held = (this.perPeer.get(peer) ?? 0) + part.chunk.byteLength;
    if (held > this.maxPeerBytes) {
      this.forgetPeer(peer, true);
      return { type: 'over-budget' };
    }
    this.perPeer.set(peer, held);
    // A copy: the chunk is a view into the received frame, whose buffer may be bigger.
    a.chunks.push(part.chunk.slice());
    a.received += part.chunk.byteLength;
    if (a.received < a.total) return { type: 'more' };
    this.remove(key);
    return { type: 'done', inner: a.inner, payload: join(a.chunks, a.total) };
  }

  /** Bytes assembling for `peer` now. */
  bytesOf(peer: string): number {
    return this.perPeer.get(peer) ?? 0;
  }

  /** True the first time a gap of `key` asks for a resync (until `resolved`). */
  askOnce(key: string): boolean {
    if (this.gaps.has(key)) return false;
    this.gaps.add(key);
    return true;
  }

  resolved(key: string): void {
    this.gaps.delete(key);
  }

  /** Forgets the gaps of a peer (a new channel may ask again); with `parts`, its assemblies too. */
  forgetPeer(peer: string, parts: boolean): void {
    const prefix = `${peer}\n`;
    for (const key of [...this.gaps]) if (key.startsWith(prefix)) this.gaps.delete(key);
    if (!parts) return;
    for (const key of [...this.assembling.keys()]) {
      if (key.startsWith(prefix)) this.remove(key);
    }
  }

  /**
   * The repair round: assemblies that made progress since the last round (their keys) stay;
   * those that made none are dropped (their step1 is asked again by the caller).
   */
  round(): Set<string> {
    const arriving = new Set<string>();
    for (const [key, a] of this.assembling) {
      if (this.seen.get(key) !== a.received) {
        this.seen.set(key, a.received);
        arriving.add(key);
      } else {
        this.remove(key);
      }
    }
    for (const key of [...this.seen.keys()]) if (!this.assembling.has(key)) this.seen.delete(key);
    return arriving;
  }

  private remove(key: string): void {
    const a = this.assembling.get(key);
    if (a === undefined) return;
    this.assembling.delete(key);
    const peer = peerOf(key);
    const left = (this.perPeer.get(peer) ?? 0) - a.received;
    if (left > 0) this.perPeer.set(peer, left);
    else this.perPeer.delete(peer);
  }
}

function peerOf(key: string): string {
  const end = key.indexOf('\n');
  return end < 0 ? key : key.slice(0, end);
}

function join(chunks: Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}
