/** File names from other people, made safe to show and to save (src/lib/files/names.ts). */
import { describe, expect, it } from 'vitest';
import { MAX_FILE_NAME_UNITS, safeFileName } from '../../../src/lib/files/names.js';

describe('safeFileName', () => {
  it('keeps ordinary names as they are', () => {
    expect(safeFileName('Holiday photo 2026.jpg')).toBe('Holiday photo 2026.jpg');
    expect(safeFileName('Résumé – final.pdf')).toBe('Résumé – final.pdf');
    expect(safeFileName('写真.png')).toBe('写真.png');
  });

  it('removes bidi overrides, zero-width and control characters', () => {
    expect(safeFileName('invoice\u202Efdp.exe')).toBe('invoicefdp.exe');
    expect(safeFileName('a\u200Bb\u2066c\u2069.txt')).toBe('abc.txt');
    expect(safeFileName('line\nbreak\u0000.txt')).toBe('line break.txt');
    expect(safeFileName('tab\there.txt')).toBe('tab here.txt');
  });

  it('turns path separators and reserved characters into "_", and strips leading dots', () => {
    expect(safeFileName('../../etc/passwd')).toBe('_.._etc_passwd');
    expect(safeFileName('C:\\Windows\\evil.dll')).toBe('C__Windows_evil.dll');
    expect(safeFileName('.bashrc')).toBe('bashrc');
    expect(safeFileName('name. . .')).toBe('name');
    expect(safeFileName('what?<>|*".txt')).toBe('what______.txt');
  });

  it('guards device names and empty results', () => {
    expect(safeFileName('CON')).toBe('_CON');
    expect(safeFileName('nul.txt')).toBe('_nul.txt');
    expect(safeFileName('')).toBe('file');
    expect(safeFileName('\u202E\u200B')).toBe('file');
    expect(safeFileName('...')).toBe('file');
    expect(safeFileName(42)).toBe('file');
  });

  it('bounds long names, keeping a short extension and whole characters', () => {
    const long = `${'😀'.repeat(200)}.tar.gz`;
    const safe = safeFileName(long);
    expect(safe.length).toBeLessThanOrEqual(MAX_FILE_NAME_UNITS);
    expect(safe.endsWith('.gz')).toBe(true);
    expect(safe).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/u);
    expect(safeFileName('x'.repeat(10_000)).length).toBe(MAX_FILE_NAME_UNITS);
  });
});
