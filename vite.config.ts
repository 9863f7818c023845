import { readFileSync } from 'node:fs';
import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vitest/config';

// Shown in Settings → About.
const { version } = JSON.parse(
  readFileSync(new URL('./package.json', import.meta.url), 'utf8')
) as {
  version: string;
};

// In `npm run dev`, the app asks the local relay (npm run relay, HTTP on 8080) for its addresses.
const relayHttp = process.env.P2P4E_DEV_RELAY ?? 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [sveltekit()],
  define: { __APP_VERSION__: JSON.stringify(version) },
  // /ipfs: the relay's gateway of public shares ("Put on the web" links use the page's origin).
  server: { proxy: { '/api': relayHttp, '/ipfs': relayHttp } },
  build: { target: 'es2022' },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['tests/unit/**/*.test.ts'],
          environment: 'node',
          setupFiles: ['tests/fixtures/node-polyfills.ts']
        }
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['tests/integration/**/*.test.ts'],
          environment: 'node',
          setupFiles: ['tests/fixtures/node-polyfills.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          fileParallelism: false
        }
      }
    ]
  }
});
