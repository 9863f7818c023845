/**
 * The size of the built app: every file in build/_app/immutable/, raw and gzipped (gzipSync
 * level 9), summed per kind (JS, CSS). For bench/shell.ts.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { gzipSync } from 'node:zlib';
import { REPO_ROOT } from '../../tests/fixtures/relay.js';

export interface Sizes {
  js: { files: number; bytes: number; gzip: number };
  css: { files: number; bytes: number; gzip: number };
  /** Gzipped size of every immutable file, by path under build/. */
  gzipByFile: Record<string, number>;
  largestJs: { file: string; gzip: number }[];
}

export async function measureSizes(): Promise<Sizes> {
  const build = join(REPO_ROOT, 'build');
  const root = join(build, '_app', 'immutable');
  const names = await readdir(root, { recursive: true }).catch(() => {
    throw new Error(`${root} is missing: run \`npm run build\` first`);
  });
  const sizes: Sizes = {
    js: { files: 0, bytes: 0, gzip: 0 },
    css: { files: 0, bytes: 0, gzip: 0 },
    gzipByFile: {},
    largestJs: []
  };
  for (const name of names.sort()) {
    const kind = name.endsWith('.js') ? 'js' : name.endsWith('.css') ? 'css' : undefined;
    if (kind === undefined) continue;
    const bytes = await readFile(join(root, name));
    const gzip = gzipSync(bytes, { level: 9 }).length;
    sizes[kind].files++;
    sizes[kind].bytes += bytes.length;
    sizes[kind].gzip += gzip;
    sizes.gzipByFile[relative(build, join(root, name)).split(sep).join('/')] = gzip;
  }
  sizes.largestJs = Object.entries(sizes.gzipByFile)
    .filter(([file]) => file.endsWith('.js'))
    .sort((x, y) => y[1] - x[1])
    .slice(0, 10)
    .map(([file, gzip]) => ({ file, gzip }));
  return sizes;
}
