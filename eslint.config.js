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
          { group: ['**/electron/**', '../electron', 'electron', 'electron/*'], message: 'core/ must not import from electron/ (DESIGN.md: dependencies point one way).' },
          { group: ['**/renderer/**', '../renderer'], message: 'core/ must not import from renderer/.' },
          { group: ['react', 'react-dom', 'zustand', 'cytoscape'], message: 'core/ is UI-free.' },
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
          { group: ['**/core/**', '../core', '../../core'], message: 'renderer/ may only use the contract types in electron/contract.ts, never core/.' },
          // A regex, not a gitignore-style group: the group 'electron' also matched ../../electron/contract.
          { regex: '^(electron(/.*)?|node:.*)$', message: 'renderer/ runs in the browser: no Electron or Node imports.' },
        ],
      }],
    },
  },
);
