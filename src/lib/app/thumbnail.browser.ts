/**
 * A small JPEG preview of an image being attached, made in the browser (createImageBitmap and
 * an OffscreenCanvas): at most 160 px on the long side and MAX_THUMBNAIL_LENGTH characters as a
 * data: URL (quality is lowered until it fits). Anything that is not an image the browser can
 * decode gets no preview.
 */
import type { FileSource } from '../files/files.js';
import { MAX_THUMBNAIL_LENGTH } from '../files/record.js';

const EDGE = 160;
/** Images bigger than this are not decoded for a preview (memory). */
const MAX_DECODE_BYTES = 50 * 1024 * 1024;

export async function imagePreview(
  file: FileSource
): Promise<{ thumb: string; w: number; h: number } | undefined> {
  if (!/^image\/(jpeg|png|gif|webp|avif|bmp)$/u.test(file.type) || file.size > MAX_DECODE_BYTES) {
    return undefined;
  }
  if (!(file instanceof Blob) || typeof OffscreenCanvas === 'undefined') return undefined;
  const bitmap = await createImageBitmap(file);
  try {
    const scale = Math.min(1, EDGE / Math.max(bitmap.width, bitmap.height));
    const w = Math.max(1, Math.round(bitmap.width * scale));
    const h = Math.max(1, Math.round(bitmap.height * scale));
    const canvas = new OffscreenCanvas(w, h);
    const ctx = canvas.getContext('2d');
    if (ctx === null) return undefined;
    ctx.drawImage(bitmap, 0, 0, w, h);
    for (const quality of [0.7, 0.5, 0.3]) {
      const blob = await canvas.convertToBlob({ type: 'image/jpeg', quality });
      const thumb = await dataUrl(blob);
      if (thumb.length <= MAX_THUMBNAIL_LENGTH) return { thumb, w: bitmap.width, h: bitmap.height };
    }
    return undefined;
  } finally {
    bitmap.close();
  }
}

function dataUrl(blob: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error ?? new Error('could not read the preview'));
    reader.readAsDataURL(blob);
  });
}
