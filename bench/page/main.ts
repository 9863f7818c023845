/**
 * The bench page: exposes `window.bench` (see api.ts) for bench/run.ts. With `?relay=<multiaddr>`
 * it starts the app's libp2p node right away, so "page load -> reservation" covers loading the
 * bundle, creating the node and reserving a slot on the relay.
 */
// First: wraps RTCPeerConnection before @libp2p/webrtc captures it.
import './count-pc.ts';
import type { BenchApi } from './api.ts';
import { chat } from './chat.ts';
import { filesApi } from './files.ts';
import { ours } from './ours.ts';
import { raw } from './raw.ts';
import { errorMessage } from './util.ts';

let startError: string | undefined;
const status = document.getElementById('status');

const bench: BenchApi = {
  raw,
  ours,
  chat,
  files: filesApi,
  isolated: globalThis.crossOriginIsolated,
  startError: () => startError
};
window.bench = bench;

const relay = new URLSearchParams(location.search).get('relay');
if (relay !== null && relay !== '') {
  ours.start([relay]).then(
    (peerId) => {
      if (status !== null) status.textContent = `started ${peerId}`;
    },
    (err: unknown) => {
      startError = errorMessage(err);
      if (status !== null) status.textContent = `start failed: ${startError}`;
    }
  );
} else if (status !== null) {
  status.textContent = 'ready';
}
