/** What a file card and the "Preparing" list say about a transfer (files.svelte.ts). */
import { describe, expect, it } from 'vitest';
import type { TransferView } from '../../../src/lib/app/transfer-state.js';
import { durationText, transferText } from '../../../src/lib/stores/files.svelte.js';

function view(patch: Partial<TransferView>): TransferView {
  return {
    id: 'm',
    conversationId: 'c',
    name: 'big.iso',
    size: 25_000_000,
    type: 'application/octet-stream',
    direction: 'receive',
    state: 'downloading',
    bytes: 3_200_000,
    speed: 4_100_000,
    eta: 6,
    ...patch
  };
}

describe('transferText', () => {
  it('says bytes, speed and time left while moving', () => {
    expect(transferText(view({}))).toBe('3.2 MB of 25 MB · 4.1 MB/s · 6 s left');
    expect(transferText(view({ speed: 0, eta: undefined }))).toBe('3.2 MB of 25 MB');
    expect(
      transferText(
        view({ state: 'preparing', size: 40_000_000, bytes: 12_300_000, speed: 8_100_000, eta: 5 })
      )
    ).toBe('Preparing… 12 MB of 40 MB · 8.1 MB/s · 5 s left');
  });

  it('names the states that do not move', () => {
    expect(transferText(view({ state: 'queued' }))).toBe('Queued');
    expect(transferText(view({ state: 'paused' }))).toBe('Paused');
    expect(transferText(view({ state: 'waiting' }))).toBe(
      'Waiting for someone who has it to come online'
    );
  });
});

describe('durationText', () => {
  it('rounds up to seconds, minutes, hours', () => {
    expect(durationText(0.2)).toBe('1 s');
    expect(durationText(59)).toBe('59 s');
    expect(durationText(61)).toBe('2 min');
    expect(durationText(3_600)).toBe('1 h');
    expect(durationText(3_900)).toBe('1 h 5 min');
  });
});
