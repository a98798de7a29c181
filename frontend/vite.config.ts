/// <reference types="vitest/config" />
import { defineConfig } from 'vite'
import { svelte } from '@sveltejs/vite-plugin-svelte'

// `npm run dev` proxies the API (and the local backend's signed files) to a
// running server: ASSETLAB_DEV_SERVER, default http://localhost:3000.
const target = process.env.ASSETLAB_DEV_SERVER ?? 'http://localhost:3000'

export default defineConfig({
  plugins: [svelte()],
  server: {
    proxy: {
      '/api': target,
      '/files': target,
      '/healthz': target,
    },
  },
  build: { outDir: 'dist', emptyOutDir: true },
  // *.svelte.test.ts run Svelte's client runtime, so that $effect and
  // $derived in them react as they do in the page (the default, for Node,
  // is the server runtime, where effects never run).
  resolve: process.env.VITEST ? { conditions: ['browser'] } : undefined,
  test: { testTransformMode: { web: ['**/*.svelte.test.ts'] } },
})
