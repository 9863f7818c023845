/**
 * A small JPEG preview of an image or video being attached, made in the browser: at most
 * 160 px on the long side and MAX_THUMBNAIL_LENGTH characters as a data: URL (quality is
 * lowered until it fits). Images are decoded with createImageBitmap; a video gets a frame near
 * its start, read by a <video> element from the File (the browser reads what it needs, never
 * the whole file). Anything the browser cannot decode in time gets no preview.
 */
import type { FileSource } from '../files/files.js';
import { MAX_THUMBNAIL_LENGTH } from '../files/record.js';

const EDGE = 160;
/** Images bigger than this are not decoded for a preview (memory). */
const MAX_DECODE_BYTES = 50 * 1024 * 1024;
/** A video whose frame is not there by then gets no preview (the attach goes on). */
const VIDEO_FRAME_TIMEOUT_MS = 5_000;

type Preview = { thumb: string; w: number; h: number };

/** A preview of an image or a video, or undefined (any other file, or one that fails). */
export function filePreview(file: FileSource): Promise<Preview | undefined> {
  return file.type.startsWith('video/') ? videoPreview(file) : imagePreview(file);
}

export async function imagePreview(file: FileSource): Promise<Preview | undefined> {
  if (!/^image\/(jpeg|png|gif|webp|avif|bmp)$/u.test(file.type) || file.size > MAX_DECODE_BYTES) {
    return undefined;
  }
  if (!(file instanceof Blob) || typeof OffscreenCanvas === 'undefined') return undefined;
  const bitmap = await createImageBitmap(file);
  try {
    return await thumbnail(bitmap, bitmap.width, bitmap.height);
  } finally {
    bitmap.close();
  }
}

/** A frame at a tenth of the video (at most 1 s in), drawn once the browser has seeked there. */
export async function videoPreview(file: FileSource): Promise<Preview | undefined> {
  if (!(file instanceof Blob) || typeof document === 'undefined') return undefined;
  const video = document.createElement('video');
  const url = URL.createObjectURL(file);
  try {
    video.muted = true;
    video.preload = 'metadata';
    const ready = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), VIDEO_FRAME_TIMEOUT_MS);
      const done = (ok: boolean) => {
        clearTimeout(timer);
        resolve(ok);
      };
      video.onerror = () => done(false);
      video.onloadedmetadata = () => {
        const d = Number.isFinite(video.duration) ? video.duration : 0;
        video.currentTime = Math.min(1, d / 10);
      };
      video.onseeked = () => done(video.videoWidth > 0 && video.videoHeight > 0);
    });
    video.src = url;
    if (!(await ready)) return undefined;
    return await thumbnail(video, video.videoWidth, video.videoHeight);
  } catch {
    return undefined;
  } finally {
    video.removeAttribute('src');
    video.load();
    URL.revokeObjectURL(url);
  }
}

async function thumbnail(
  source: CanvasImageSource,
  width: number,
  height: number
): Promise<Preview | undefined> {
  if (typeof OffscreenCanvas === 'undefined') return undefined;
  const scale = Math.min(1, EDGE / Math.max(width, height));
  const w = Math.max(1, Math.round(width * scale));
  const h = Math.max(1, Math.round(height * scale));
  const canvas = new OffscreenCanvas(w, h);
  const ctx = canvas.getContext('2d');
  if (ctx === null) return undefined;
  ctx.drawImage(source, 0, 0, w, h);
  for (const quality of [0.7, 0.5, 0.3]) {
    const blob = await canvas.convertToBlob({ type: 'image/jpeg', quality });
    const thumb = await dataUrl(blob);
    if (thumb.length <= MAX_THUMBNAIL_LENGTH) return { thumb, w: width, h: height };
  }
  return undefined;
}

function dataUrl(blob: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error ?? new Error('could not read the preview'));
    reader.readAsDataURL(blob);
  });
}
