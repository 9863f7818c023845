/** Turns benchmark results into the table printed on stdout. */

export type Row = [metric: string, ours: string, raw: string, ratio: string];

/** Any number of columns: the header's (rows are `Row`s unless a header says otherwise). */
export function formatTable(
  rows: readonly (readonly string[])[],
  header: readonly string[] = [
    'metric',
    'ours (app libp2p node)',
    'raw RTCDataChannel',
    'ours / raw'
  ]
): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]): string =>
    header.map((_, i) => (r[i] ?? '').padEnd(widths[i]!)).join(' | ');
  const rule = widths.map((w) => '-'.repeat(w)).join('-+-');
  return [line(header), rule, ...rows.map(line)].join('\n');
}

/** Fixed decimals that stay readable from 0.05 ms to 5000 ms. */
export function fmt(value: number, unit = ''): string {
  if (!Number.isFinite(value)) return 'n/a';
  const abs = Math.abs(value);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  return `${value.toFixed(digits)}${unit}`;
}

export function ratio(ours: number, raw: number): string {
  if (!Number.isFinite(ours) || !Number.isFinite(raw) || raw === 0) return 'n/a';
  return `${(ours / raw).toFixed(2)}x`;
}
