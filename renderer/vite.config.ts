// Renderer-only build and dev server (`npx vite build --config renderer/vite.config.ts`), matching
// the renderer section of electron.vite.config.ts: same root, base and output, so the headless host
// serves either build. The e2e suite uses this to build without touching main and preload.
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  // Paths below are relative to this folder (no node:path: lint keeps renderer/ free of Node imports).
  root: import.meta.dirname,
  base: '/',
  plugins: [react()],
  build: {
    outDir: '../out/renderer',
    emptyOutDir: true,
    // The host's CSP allows our own files only; keep everything in external, hashed assets.
    assetsInlineLimit: 0,
    // One bundle for a local app: cytoscape and react make it ~900 kB, loaded from disk or loopback.
    chunkSizeWarningLimit: 1500,
  },
});
