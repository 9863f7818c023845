import { describe, expect, it } from 'vitest';
import { InvalidFileRecordError } from '../../../src/lib/files/errors.js';
import {
  encodeFileRecord,
  fileKeyOf,
  parseFileRecord,
  safeMediaType,
  type FileRecord
} from '../../../src/lib/files/record.js';

const good: FileRecord = {
  v: 1,
  cid: 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku',
  name: 'report.pdf',
  size: 0,
  type: 'application/pdf',
  key: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
  seg: 262144
};

describe('file records', () => {
  it('round-trips a valid record', () => {
    expect(parseFileRecord(encodeFileRecord(good))).toEqual(good);
    expect(fileKeyOf(good)).toHaveLength(32);
  });

  it.each([
    ['not JSON', '{'],
    ['an array', '[]'],
    ['another version', JSON.stringify({ ...good, v: 2 })],
    ['no cid', JSON.stringify({ ...good, cid: undefined })],
    ['a bad cid', JSON.stringify({ ...good, cid: 'nope' })],
    ['a CIDv0', JSON.stringify({ ...good, cid: 'QmbWqxBEKC3P8tqsKc98xmWNzrzDtRLMiMPL8wBuTGsMnR' })],
    ['a negative size', JSON.stringify({ ...good, size: -1 })],
    ['a fractional size', JSON.stringify({ ...good, size: 1.5 })],
    ['a huge size', JSON.stringify({ ...good, size: 2 ** 60 })],
    ['a short key', JSON.stringify({ ...good, key: 'AAAA' })],
    ['a key of another type', JSON.stringify({ ...good, key: 42 })],
    ['an unknown segment size', JSON.stringify({ ...good, seg: 1024 })]
  ])('refuses %s with a clear error', (_what, raw) => {
    expect(() => parseFileRecord(raw)).toThrow(InvalidFileRecordError);
  });

  it('cleans what it shows: name, media type, thumbnail, dimensions', () => {
    const parsed = parseFileRecord({
      ...good,
      name: '../../evil\u202Efdp.exe',
      type: 'text/html; charset=utf-8',
      thumb: 'javascript:alert(1)',
      w: -3,
      h: 10
    });
    expect(parsed.name).not.toMatch(/[/\\\u202E]/u);
    expect(parsed.type).toBe('text/html');
    expect(parsed.thumb).toBeUndefined();
    expect(parsed.w).toBeUndefined();
    expect(safeMediaType('<script>')).toBe('application/octet-stream');
    expect(safeMediaType(42)).toBe('application/octet-stream');
  });

  it('keeps a data: image thumbnail and a public record has no key', () => {
    const pub = parseFileRecord({
      ...good,
      key: undefined,
      seg: undefined,
      thumb: 'data:image/jpeg;base64,AAAA',
      w: 10,
      h: 20
    });
    expect(pub.key).toBeUndefined();
    expect(pub.thumb).toBe('data:image/jpeg;base64,AAAA');
    expect([pub.w, pub.h]).toEqual([10, 20]);
    expect(() => fileKeyOf(pub)).toThrow(InvalidFileRecordError);
  });
});
