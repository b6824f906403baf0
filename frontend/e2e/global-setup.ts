// Before the first test: a clean console record (e2e/support.ts appends to it) and the
// environment scripts/test-frontend sets.
import { mkdirSync, rmSync } from 'node:fs'
import { ARTIFACTS, BASE, CONSOLE_PROBLEMS } from './support.ts'

export default function globalSetup() {
  if (!BASE) throw new Error('E2E_BASE_URL is not set: run the browser tests through scripts/test-frontend')
  mkdirSync(ARTIFACTS, { recursive: true })
  rmSync(CONSOLE_PROBLEMS, { force: true })
}
