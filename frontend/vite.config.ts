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
})
