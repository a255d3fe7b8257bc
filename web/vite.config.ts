import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// One toolchain for both halves: `vite build` makes the pages (dist/),
// `vite build --ssr server/main.ts` the web server (dist-server/main.js).
export default defineConfig({
  plugins: [react()],
  build: { sourcemap: true, target: 'es2022', reportCompressedSize: false },
  ssr: { target: 'node' },
});
