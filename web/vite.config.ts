// Builds the browser UI into dist/web, which `tributary serve` serves from `/`.
// `npx vite build --config web/vite.config.ts` from the repository root; `npx vite --config
// web/vite.config.ts` serves it in development with /api proxied to a local `tributary serve`.
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const root = decodeURIComponent(new URL('.', import.meta.url).pathname);

export default defineConfig({
  root,
  base: '/',
  plugins: [react()],
  build: {
    outDir: '../dist/web',
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 700,
  },
  server: {
    proxy: { '/api': 'http://127.0.0.1:3000' },
  },
});
