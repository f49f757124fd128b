import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'
import Components from 'unplugin-vue-components/vite'
import { ElementPlusResolver } from 'unplugin-vue-components/resolvers'

// The build goes straight into the Go package that embeds it. File names
// carry content hashes, so the output is the same for the same sources.
export default defineConfig({
  base: '/admin/',
  plugins: [
    vue(),
    // Element Plus components (and their CSS) are imported where used, so
    // each screen's chunk carries only what it needs.
    Components({ resolvers: [ElementPlusResolver({ importStyle: 'css' })], dts: false }),
  ],
  // npm run dev: the console at http://127.0.0.1:5173/admin/ with the API of
  // a kaidian demo on :8080 (same origin for the browser, so cookies work).
  server: { host: '127.0.0.1', proxy: { '/admin/api': 'http://127.0.0.1:8080' } },
  build: {
    outDir: '../../internal/console/dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    sourcemap: false,
    chunkSizeWarningLimit: 800,
    modulePreload: { polyfill: false },
  },
})
