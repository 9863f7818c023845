/**
 * Step2s and updates too big for one frame arrive as consecutive Part frames: this puts them
 * back together per peer and doc, notices gaps (lost frames) and stalls (the repair round), and
 * remembers which gaps already asked for a resync (one request at a time per peer and doc).
 */
import type { PartHeader } from './protocol.js';

interface Assembly {
  inner: number;
  total: number;
  received: number;
  buf: Uint8Array;
}

export type PartResult =
  /** The last part arrived: the whole payload of the inner frame type. */
  | { type: 'done'; inner: number; payload: Uint8Array }
  /** More parts to come. */
  | { type: 'more' }
  /** A part is missing (lost frames): what the parts carried must be asked for again. */
  | { type: 'gap' };

export class Reassembler {
  private readonly assembling = new Map<string, Assembly>();
  /** Keys with a resync asked because parts went missing. */
  private readonly gaps = new Set<string>();
  /** Bytes received per key at the last repair round. */
  private readonly seen = new Map<string, number>();

  /** `key` is `${peer}\n${doc}`. */
  add(key: string, part: PartHeader): PartResult {
    let a = this.assembling.get(key);
    if (part.offset === 0) {
      a = { inner: part.inner, total: part.total, received: 0, buf: new Uint8Array(part.total) };
      this.assembling.set(key, a);
    }
    if (
      a === undefined ||
      a.inner !== part.inner ||
      a.total !== part.total ||
      a.received !== part.offset
    ) {
      this.assembling.delete(key);
      return { type: 'gap' };
    }
    a.buf.set(part.chunk, part.offset);
    a.received += part.chunk.byteLength;
    if (a.received < a.total) return { type: 'more' };
    this.assembling.delete(key);
    return { type: 'done', inner: a.inner, payload: a.buf };
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
      if (key.startsWith(prefix)) this.assembling.delete(key);
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
        this.assembling.delete(key);
      }
    }
    for (const key of [...this.seen.keys()]) if (!this.assembling.has(key)) this.seen.delete(key);
    return arriving;
  }
}
