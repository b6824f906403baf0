// The browser end-to-end tests (e2e/*.spec.ts), run by scripts/test-frontend against nginx and the
// three real services it starts; it passes their addresses in E2E_* variables (e2e/support.ts).
// Debian's Chromium (/usr/bin/chromium, or CHROMIUM): Playwright never downloads a browser here.
import { defineConfig } from '@playwright/test'

const artifacts = process.env.E2E_ARTIFACTS ?? 'e2e-artifacts'

export default defineConfig({
  testDir: 'e2e',
  // Traces, failure screenshots and the HTML report go into the git-ignored artifacts directory.
  outputDir: `${artifacts}/test-results`,
  globalSetup: './e2e/global-setup.ts',
  // The slowest scenario waits out a 45 s reservation window; a UI step may take 15 s.
  timeout: 180_000,
  expect: { timeout: 15_000 },
  retries: 1,
  // Two cores: one browser per core. Files run in parallel, the tests of a file in order.
  workers: 2,
  fullyParallel: false,
  forbidOnly: Boolean(process.env.CI),
  reporter: [
    ['list'],
    ['html', { outputFolder: `${artifacts}/report`, open: 'never' }],
    ['./e2e/summary-reporter.ts'],
  ],
  use: {
    baseURL: process.env.E2E_BASE_URL,
    locale: 'en-US',
    timezoneId: 'UTC',
    viewport: { width: 1280, height: 900 },
    actionTimeout: 15_000,
    navigationTimeout: 15_000,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  projects: [
    // outage.spec.ts stops products-service, then reads every worker's console record: it is the
    // teardown of the rest, run after it whether it passed or not.
    { name: 'shop', testIgnore: /outage\.spec\.ts/, teardown: 'outage' },
    { name: 'outage', testMatch: /outage\.spec\.ts/ },
  ],
})
