/**
 * Builds the benchmark page (bench/page) into bench/dist. Used by bench/run.ts through Vite's
 * API; `$lib` points at the app's src/lib so the page runs the real app stack.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const benchDir = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: `${benchDir}page`,
  base: './',
  logLevel: 'warn',
  clearScreen: false,
  resolve: { alias: { $lib: `${benchDir}../src/lib` } },
  build: {
    outDir: `${benchDir}dist`,
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    reportCompressedSize: false,
    chunkSizeWarningLimit: 4096,
    // A profile (BENCH_PROFILE=1) names the functions.
    minify: process.env.BENCH_PROFILE !== '1'
  }
});
