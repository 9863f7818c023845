/**
 * Sizes in words for people: `formatBytes(1536)` → "1.5 KB" (decimal units, as operating
 * systems show disk use), and what this site stores on the device (Settings → About).
 */

const UNITS = ['bytes', 'KB', 'MB', 'GB', 'TB'] as const;

/** `0 bytes`, `999 bytes`, `1.5 KB`, `12 MB`, `1.2 GB`: two significant digits below 10. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '';
  if (bytes < 1000) return `${Math.round(bytes)} ${bytes === 1 ? 'byte' : 'bytes'}`;
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  // 999.95 KB would round to "1000 KB": say 1.0 MB instead.
  if (Math.round(value) >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  const rounded = value < 10 ? Math.round(value * 10) / 10 : Math.round(value);
  const text = rounded < 10 ? rounded.toFixed(1) : String(rounded);
  return `${text} ${UNITS[unit]}`;
}

/** What `navigator.storage` offers (injected in tests). */
export interface StorageEstimator {
  estimate(): Promise<{ usage?: number; quota?: number }>;
}

/**
 * "2.3 MB of 1.2 GB available" (or just the usage when the quota is unknown); undefined when
 * the browser doesn't say.
 */
export async function describeStorageUse(
  storage: StorageEstimator | undefined = globalThis.navigator?.storage
): Promise<string | undefined> {
  if (storage === undefined || typeof storage.estimate !== 'function') return undefined;
  try {
    const { usage, quota } = await storage.estimate();
    if (usage === undefined) return undefined;
    const used = formatBytes(usage);
    return quota === undefined || quota <= 0 ? used : `${used} of ${formatBytes(quota)} available`;
  } catch {
    return undefined;
  }
}
