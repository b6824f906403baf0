import react from '@vitejs/plugin-react'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  plugins: [react()],
  build: {
    // Hashed file names under /assets/ are what nginx caches forever.
    assetsDir: 'assets',
    sourcemap: false,
  },
  server: {
    // `npm run dev` against the services running locally (scripts/dev uses nginx instead).
    proxy: {
      '/api/auth': 'http://127.0.0.1:3030',
      '/api/products': 'http://127.0.0.1:3020',
      '/api/orders': 'http://127.0.0.1:3040',
      '/api/admin': 'http://127.0.0.1:3040',
    },
  },
  test: {
    environment: 'node',
    include: ['src/**/*.test.ts'],
  },
})
