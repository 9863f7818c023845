/**
 * "Put on the web" without a relay: the link, the refusals the app decides itself (an
 * encrypted file, one too big for the relay, no connection to it), and the service's states.
 * The relay's side through a real relay: tests/integration/gateway.test.ts; the whole flow in
 * a browser: tests/e2e/files-web.spec.ts.
 */
import { describe, expect, it } from 'vitest';
import type { FileRecord } from '../../../src/lib/files/record.js';
import {
  createWebShares,
  putOnWeb,
  webGatewayOf,
  webLink,
  type WebShareView
} from '../../../src/lib/app/web-shares.js';

const CID = 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku';
const record: FileRecord = { v: 1, cid: CID, name: 'a b/c?.txt', size: 10, type: 'text/plain' };
const gateway = { peerId: '12D3KooWRelay', origin: 'https://relay.example', maxBytes: 100 };
const offline = { getConnections: () => [] };

async function steps(r: FileRecord, max = gateway.maxBytes): Promise<WebShareView[]> {
  const seen: WebShareView[] = [];
  await putOnWeb(offline, { ...gateway, maxBytes: max }, r, (v) => seen.push(v));
  return seen;
}

describe('web shares', () => {
  it('links to the gateway of the relay that served the app, with the file name', () => {
    expect(webLink(gateway, record)).toBe(
      `https://relay.example/ipfs/${CID}?filename=a+b%2Fc%3F.txt`
    );
    const info = { peerId: 'R', multiaddrs: [], version: '', iceServers: [] };
    expect(webGatewayOf(info, 'https://x')).toBeUndefined();
    expect(webGatewayOf({ ...info, publicShares: { maxBytes: 5 } }, 'https://x')).toEqual({
      peerId: 'R',
      origin: 'https://x',
      maxBytes: 5
    });
  });

  it('refuses an encrypted file, one too big, and says when the relay is not connected', async () => {
    expect(await steps({ ...record, key: 'k'.repeat(43) })).toEqual([
      { state: 'failed', error: 'Only a public file can be put on the web.' }
    ]);
    expect(await steps(record, 5)).toEqual([
      { state: 'failed', error: 'The relay keeps public files of at most 5 bytes.' }
    ]);
    expect(await steps(record)).toEqual([
      { state: 'asking' },
      { state: 'failed', error: 'This device is not connected to that relay right now.' }
    ]);
  });

  it('the service asks only when a relay keeps shares, and reports each step by message', async () => {
    const served: { relay?: typeof gateway } = {};
    const web = createWebShares({ libp2p: () => offline, gateway: () => served.relay });
    const changed: string[] = [];
    web.onChange((id) => changed.push(id));
    web.put('m1', record);
    expect(web.view('m1')).toBeUndefined();
    served.relay = gateway;
    expect(web.gateway()).toEqual(gateway);
    web.put('m1', record);
    expect(web.view('m1')).toEqual({ state: 'asking' });
    await expect.poll(() => web.view('m1')?.state).toBe('failed');
    expect(changed).toEqual(['m1', 'm1']);
  });
});
