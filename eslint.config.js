import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import ts from 'typescript-eslint';
import svelteConfig from './svelte.config.js';

const SVELTE = {
  group: ['svelte', 'svelte/*', '$app/*'],
  message: 'Only the UI (components, routes, *.svelte.ts stores) imports Svelte.'
};
const YJS = {
  group: ['yjs', 'y-indexeddb', 'y-protocols', 'y-protocols/*'],
  message:
    'Yjs stays inside src/lib/sync and src/lib/storage: use the Chat façade (src/lib/app/chat.ts).'
};

export default ts.config(
  {
    ignores: [
      'build/',
      '.svelte-kit/',
      'relay/dist/',
      'node_modules/',
      'test-results/',
      'playwright-report/',
      'bench/results/',
      'bench/dist/'
    ]
  },
  js.configs.recommended,
  ...ts.configs.recommended,
  ...svelte.configs.recommended,
  prettier,
  ...svelte.configs.prettier,
  {
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
    rules: {
      'no-undef': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }
      ]
    }
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts', '**/*.svelte.js'],
    languageOptions: {
      parserOptions: {
        projectService: true,
        extraFileExtensions: ['.svelte'],
        parser: ts.parser,
        svelteConfig
      }
    }
  },
  {
    // Layering: Yjs stays inside the sync and storage subsystems; the UI and app/ see the Chat
    // façade's commands and plain read models.
    files: ['src/**/*.ts', 'src/**/*.svelte'],
    ignores: ['src/lib/sync/**', 'src/lib/storage/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [YJS] }] }
  },
  {
    // Layering: nothing below the UI imports Svelte (and Yjs as above).
    files: ['src/lib/**/*.ts'],
    ignores: ['src/lib/**/*.svelte.ts', 'src/lib/sync/**', 'src/lib/storage/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [SVELTE, YJS] }] }
  },
  {
    files: ['src/lib/sync/**/*.ts', 'src/lib/storage/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [SVELTE] }] }
  }
);
