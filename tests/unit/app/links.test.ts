import { describe, expect, it } from 'vitest';
import { messageLink, parseConversationHash } from '../../../src/lib/app/links.js';

describe('conversation links', () => {
  it('a message link round-trips; a plain conversation link still works', () => {
    const link = messageLink('g-1234', 'a/b c');
    expect(link).toBe('#/c/g-1234/m/a%2Fb%20c');
    expect(parseConversationHash(link)).toEqual({ conversationId: 'g-1234', messageId: 'a/b c' });
    expect(parseConversationHash('#/c/d-abc')).toEqual({ conversationId: 'd-abc' });
    expect(parseConversationHash('#/c/d-abc/m/')).toEqual({ conversationId: 'd-abc' });
  });

  it('other and malformed hashes are not conversation links', () => {
    expect(parseConversationHash('#/invite/xyz')).toBeUndefined();
    expect(parseConversationHash('')).toBeUndefined();
    expect(parseConversationHash('#/c/%E0%A4%A')).toBeUndefined();
  });
});
