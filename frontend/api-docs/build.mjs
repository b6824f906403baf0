// Puts the API reference into dist/api/docs/ (served by nginx at /api/docs/): this folder's page
// and the Swagger UI files of the swagger-ui-dist package (a devDependency, so nothing is
// downloaded at build or run time). Run after `vite build`, which empties dist/.
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const out = join(here, '..', 'dist', 'api', 'docs')
const swaggerUi = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'))
const vendored = [
  'swagger-ui.css',
  'swagger-ui-bundle.js',
  'swagger-ui-standalone-preset.js',
  'favicon-32x32.png',
  'LICENSE',
  'NOTICE',
]

mkdirSync(out, { recursive: true })
for (const file of vendored) copyFileSync(join(swaggerUi, file), join(out, file))
for (const file of readdirSync(here).filter((name) => name !== 'build.mjs')) {
  copyFileSync(join(here, file), join(out, file))
}
console.log(`API reference: ${vendored.length} files of swagger-ui-dist and the page in dist/api/docs/`)
