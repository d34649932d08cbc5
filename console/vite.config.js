// The console's build: one script and one stylesheet with fixed names, so that the files
// graphport serves (and keeps in the repository) are few and their names never change.
import { defineConfig } from 'vite';

// `npm run dev`: the source with live reload on http://localhost:5173/console, the API calls
// passed to a running graphport (GRAPHPORT_URL, default http://127.0.0.1:8123)
const api = process.env.GRAPHPORT_URL || 'http://127.0.0.1:8123';
const proxied = ['/assistants', '/threads', '/runs', '/store', '/metrics', '/info', '/docs'];

export default defineConfig({
  server: { proxy: Object.fromEntries(proxied.map((path) => [path, api])) },
  // the dependency scan would read the JSX as React's: name the few dependencies instead
  optimizeDeps: {
    noDiscovery: true,
    include: ['preact', 'preact/hooks', 'preact/jsx-dev-runtime', 'preact/compat', 'preact/compat/client', 'preact/compat/jsx-runtime', '@dagrejs/dagre'],
  },
  // asset URLs relative to the page; graphport injects <base href="{prefix}/console/">
  base: './',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: process.env.CONSOLE_OUT_DIR || 'dist',
    emptyOutDir: true,
    modulePreload: false,
    sourcemap: false,
    rolldownOptions: {
      output: {
        entryFileNames: 'console.js',
        chunkFileNames: 'console-[name].js',
        assetFileNames: 'console.[ext]',
      },
    },
  },
});
