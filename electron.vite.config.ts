// Builds the three parts of the Electron app with electron-vite (no Electron binary needed):
//   main      electron/desktop/main.ts (+ the testnet worker)  -> out/main/main.js, out/main/testnet-worker.js
//   preload   electron/desktop/preload.ts                      -> out/preload/preload.cjs (CommonJS: sandboxed preloads cannot be ESM)
//   renderer  renderer/index.html                      -> out/renderer (also what the headless host serves)
import { resolve } from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'electron-vite';

const root = import.meta.dirname;

export default defineConfig({
  main: {
    build: {
      outDir: resolve(root, 'out/main'),
      rollupOptions: {
        input: {
          main: resolve(root, 'electron/desktop/main.ts'),
          // Large testnets run here, in a worker thread; testnet.ts looks for it beside the main bundle.
          'testnet-worker': resolve(root, 'electron/host/testnet-worker.ts'),
        },
        // Chunks beside the entries: testnet.ts finds the worker as ./testnet-worker.js from wherever it lands.
        output: { format: 'es', entryFileNames: '[name].js', chunkFileNames: '[name]-[hash].js' },
      },
    },
  },
  preload: {
    build: {
      outDir: resolve(root, 'out/preload'),
      // A sandboxed preload can require only 'electron': bundle everything else (zod, the contract).
      externalizeDeps: false,
      rollupOptions: {
        input: { preload: resolve(root, 'electron/desktop/preload.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(root, 'renderer'),
    base: '/',
    plugins: [react()],
    build: {
      outDir: resolve(root, 'out/renderer'),
      emptyOutDir: true,
      rollupOptions: { input: resolve(root, 'renderer/index.html') },
    },
  },
});
