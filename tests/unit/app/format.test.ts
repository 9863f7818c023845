import { describe, expect, it } from 'vitest';
import { directConversationId } from '../../../src/lib/app/chat.js';
import { formatMessage, formatTime, plainText, previewText } from '../../../src/lib/app/format.js';

describe('formatMessage', () => {
  it('keeps plain text (HTML included) as text', () => {
    expect(formatMessage('<b>hi</b> & bye')).toEqual([{ type: 'text', text: '<b>hi</b> & bye' }]);
  });

  it('finds code, bold, italic and links', () => {
    expect(formatMessage('a `x**y**` **b** _c_ https://x.org/p?q=1.')).toEqual([
      { type: 'text', text: 'a ' },
      { type: 'code', text: 'x**y**' },
      { type: 'text', text: ' ' },
      { type: 'bold', text: 'b' },
      { type: 'text', text: ' ' },
      { type: 'italic', text: 'c' },
      { type: 'text', text: ' ' },
      { type: 'link', text: 'https://x.org/p?q=1', href: 'https://x.org/p?q=1' },
      { type: 'text', text: '.' }
    ]);
  });

  it('leaves snake_case words and unmatched markers alone', () => {
    expect(formatMessage('snake_case_name **open')).toEqual([
      { type: 'text', text: 'snake_case_name **open' }
    ]);
  });

  it('never links other schemes', () => {
    expect(formatMessage('javascript:alert(1)')).toEqual([
      { type: 'text', text: 'javascript:alert(1)' }
    ]);
  });
});

describe('directConversationId', () => {
  it('is the same from both sides and differs per pair', () => {
    expect(directConversationId('a', 'b')).toBe(directConversationId('b', 'a'));
    expect(directConversationId('a', 'b')).not.toBe(directConversationId('a', 'c'));
    expect(directConversationId('a', 'b')).toMatch(/^d-[0-9a-f]{64}$/);
  });
});

describe('plainText', () => {
  it('drops the formatting markers, keeps the words and unmatched markers', () => {
    expect(plainText('Hello **Bob**, see `x` and _this_: https://x.org.')).toBe(
      'Hello Bob, see x and this: https://x.org.'
    );
    expect(plainText('2 * 3 = 6, snake_case')).toBe('2 * 3 = 6, snake_case');
  });
});

describe('formatTime', () => {
  it('shows the time alone today and the day before it otherwise, the same on every call', () => {
    const now = new Date(2026, 11, 1, 15, 30).getTime();
    const today = new Date(2026, 11, 1, 9, 5).getTime();
    const earlier = new Date(2026, 10, 3, 14, 5).getTime();
    const time = formatTime(today, now);
    expect(time).toMatch(/9.?05|09.?05/);
    expect(time).not.toMatch(/Nov|Dec/);
    expect(formatTime(earlier, now)).toMatch(/Nov/);
    expect(formatTime(earlier, now)).toContain(formatTime(earlier, earlier));
    expect(formatTime(today, now)).toBe(time); // the cached formatters give the same text
  });
});

describe('previewText', () => {
  const record = JSON.stringify({
    v: 1,
    cid: 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku',
    name: 'a/b\u202Ec.txt',
    size: 0,
    type: 'text/plain'
  });
  it('shows the caption, or the file name without a caption', () => {
    expect(previewText({ text: '**hi**', file: record })).toBe('hi');
    expect(previewText({ text: '', file: record })).toBe('📎 a_bc.txt');
    expect(previewText({ text: '', file: '{broken' })).toBe('📎 File');
    expect(previewText({ text: 'plain' })).toBe('plain');
  });
});
