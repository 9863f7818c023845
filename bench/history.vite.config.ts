/**
 * Builds the history benchmark page (bench/history-page) into bench/dist/history. Used by
 * bench/history.ts through Vite's API; `$lib` points at the app's src/lib.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const benchDir = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: `${benchDir}history-page`,
  base: './',
  logLevel: 'warn',
  clearScreen: false,
  resolve: { alias: { $lib: `${benchDir}../src/lib` } },
  build: {
    outDir: `${benchDir}dist/history`,
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    reportCompressedSize: false,
    chunkSizeWarningLimit: 4096
  }
});
