import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['scratch/**', 'node_modules/**', 'out/**', 'dist/**', 'test-results/**', 'playwright-report/**', 'test/bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  // The architecture, held by lint: core/ depends on nothing of ours and never on Electron or the DOM.
  {
    files: ['core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['**/electron/**', '../electron', 'electron', 'electron/*'], message: 'core/ must not import from electron/ (ARCHITECTURE.md: dependencies point one way).' },
          { group: ['**/renderer/**', '../renderer'], message: 'core/ must not import from renderer/.' },
          { group: ['react', 'react-dom', 'zustand', 'cytoscape'], message: 'core/ is UI-free.' },
        ],
      }],
    },
  },
  // Only electron/desktop/ is Electron: the host-agnostic service, the web host and the CLI run in plain Node.
  {
    files: ['electron/host/**/*.ts', 'electron/cli/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { regex: '^electron(/.*)?$', message: 'electron/host and electron/cli run without Electron: only electron/desktop/ may import it.' },
          { group: ['**/desktop/**', '../desktop'], message: 'electron/host and electron/cli must not import the Electron shell (electron/desktop/).' },
          { group: ['**/renderer/**'], message: 'the hosts must not import from renderer/.' },
        ],
      }],
    },
  },
  // The renderer talks to the host only through the contract's types and its api/ client.
  {
    files: ['renderer/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['**/core/**', '../core', '../../core'], message: 'renderer/ may only use the contract types in electron/host/contract.ts, never core/.' },
          // A regex, not a gitignore-style group: the group 'electron' also matched ../../electron/host/contract.
          { regex: '^(electron(/.*)?|node:.*)$', message: 'renderer/ runs in the browser: no Electron or Node imports.' },
        ],
      }],
    },
  },
);
