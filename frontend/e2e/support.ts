// What the browser scenarios share: the settings scripts/test-frontend passes in the environment,
// a page factory that records CSP violations and uncaught errors, and the steps several areas use.
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { expect, test as base, type Browser, type Page, type TestInfo } from '@playwright/test'

declare global {
  interface Window {
    /** Set on a page to prove later that it was not reloaded. */
    __e2eNoReload?: boolean
  }
}

export { expect }

export const BASE = (process.env.E2E_BASE_URL ?? '').replace(/\/$/, '')
export const ARTIFACTS = resolve(process.env.E2E_ARTIFACTS ?? 'e2e-artifacts')
/** Every test's console problems, appended by each worker; the last scenario reads it. */
export const CONSOLE_PROBLEMS = join(ARTIFACTS, 'console-problems.txt')
export const ADMIN_EMAIL = process.env.E2E_ADMIN_EMAIL
export const ADMIN_PASSWORD = process.env.E2E_ADMIN_PASSWORD
export const REDIS_PREFIX = process.env.E2E_REDIS_PREFIX // the services' REDIS_KEY_PREFIX
/** Unique per worker process (and so per retry): names made with it never collide across runs. */
export const RUN = Date.now().toString(36) + Math.random().toString(36).slice(2, 6)
export const STEP = 15_000 // how long one UI step may take
export const ASYNC = 45_000 // how long an event-driven outcome (reservation, release) may take

let tags = 0
/** A token for names one spec file makes (listings it searches for by name). */
export function uniqueTag(): string {
  tags += 1
  return `${RUN}${tags}`
}

/** Console problems seen on any page of this worker since the last test ended. */
const consoleProblems: string[] = []

/** A page in a fresh context, its CSP violations and uncaught errors recorded. */
export async function newPage(browser: Browser, viewport = { width: 1280, height: 900 }): Promise<Page> {
  const context = await browser.newContext({ viewport, baseURL: BASE, locale: 'en-US', timezoneId: 'UTC' })
  const page = await context.newPage()
  watchConsole(page)
  // The CSP violation event catches what the console might word differently.
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`Content Security Policy violation: ${e.violatedDirective} blocked ${e.blockedURI}`)
    })
  })
  return page
}

/** Records a page's CSP violations and uncaught errors (for pages opened from a context directly). */
export function watchConsole(page: Page) {
  page.setDefaultTimeout(STEP)
  page.on('console', (msg) => {
    const text = msg.text()
    if (/Content[ -]Security[ -]Policy|Refused to (load|apply|execute|connect|frame)/i.test(text)) {
      consoleProblems.push(`CSP on ${page.url()}: ${text}`)
    }
  })
  page.on('pageerror', (err) => consoleProblems.push(`uncaught error on ${page.url()}: ${err.message}`))
}

function flushConsoleProblems(testInfo: TestInfo) {
  if (consoleProblems.length === 0) return
  const lines = consoleProblems.splice(0).map((p) => `${testInfo.title}: ${p}`)
  mkdirSync(ARTIFACTS, { recursive: true })
  appendFileSync(CONSOLE_PROBLEMS, lines.map((l) => `${l}\n`).join(''))
}

/** Everything recorded so far by every worker. */
export function recordedConsoleProblems(): string[] {
  try {
    return readFileSync(CONSOLE_PROBLEMS, 'utf8').split('\n').filter(Boolean)
  } catch {
    return []
  }
}

type Fixtures = {
  /** Opens a page in a new context, closed when the test ends. */
  openPage: (viewport?: { width: number; height: number }) => Promise<Page>
  consoleLog: void
}

export const test = base.extend<Fixtures>({
  openPage: async ({ browser }, use) => {
    const pages: Page[] = []
    await use(async (viewport) => {
      const page = await newPage(browser, viewport)
      pages.push(page)
      return page
    })
    for (const page of pages) await page.context().close().catch(() => {})
  },
  consoleLog: [
    // oxlint-disable-next-line no-empty-pattern -- Playwright reads a fixture's needs from this pattern
    async ({}, use, testInfo) => {
      await use()
      flushConsoleProblems(testInfo)
    },
    { auto: true },
  ],
})

export function check(condition: unknown, message: string): asserts condition {
  expect(condition, message).toBeTruthy()
}

/** Polls `probe` until it returns a truthy value or the deadline passes. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T>,
  timeout = ASYNC,
  interval = 500,
): Promise<Exclude<T, false | null | undefined | 0 | ''>> {
  const deadline = Date.now() + timeout
  let last: Error | undefined
  for (;;) {
    try {
      const value = await probe()
      if (value) return value as Exclude<T, false | null | undefined | 0 | ''>
    } catch (err) {
      last = err as Error
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? ` (${last.message})` : ''}`)
    await new Promise((r) => setTimeout(r, interval))
  }
}

/** A named full-page screenshot in the artifacts directory. */
export async function shot(page: Page, name: string) {
  await page.waitForLoadState('networkidle', { timeout: 5000 }).catch(() => {})
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true })
}

/** How far the page scrolls sideways, and the elements sticking out (for the failure message). */
async function sidewaysOverflow(page: Page) {
  return page.evaluate(() => {
    const width = window.innerWidth
    const culprits: string[] = []
    for (const el of document.querySelectorAll('body *')) {
      const right = el.getBoundingClientRect().right
      if (right > width + 0.5 && culprits.length < 5) culprits.push(`${el.tagName.toLowerCase()}.${String(el.className).split(' ')[0]} to ${Math.round(right)}px`)
    }
    return { overflow: document.documentElement.scrollWidth - width, culprits }
  })
}

export async function checkNoSidewaysScroll(page: Page, what: string) {
  // Layout settles a frame after a resize: poll briefly before judging.
  let last = { overflow: 0, culprits: [] as string[] }
  try {
    await eventually(`${what} to fit the screen`, async () => {
      last = await sidewaysOverflow(page)
      return last.overflow <= 1
    }, 3000, 200)
  } catch {
    throw new Error(`${what} scrolls sideways by ${last.overflow}px at phone width: ${last.culprits.join(', ')}`)
  }
}

export async function statusText(page: Page) {
  return (await page.getByTestId('order-status').textContent())?.trim()
}

export async function waitForStatus(page: Page, label: string, timeout = ASYNC) {
  await page.getByTestId('order-status').filter({ hasText: new RegExp(`^${label}$`) }).waitFor({ timeout })
}

export const password = `correct-horse-${RUN}`

export async function signUp(page: Page, username: string) {
  await page.goto('/signup')
  await page.getByLabel('Username').fill(username)
  await page.getByLabel('Email').fill(`${username}@example.com`)
  await page.getByLabel('Password').fill(password)
  await page.getByRole('button', { name: 'Sign up', exact: true }).click()
  await page.getByTestId('whoami').filter({ hasText: username }).waitFor()
}

/** Signs in as the admin scripts/test-frontend started auth-service with, landing on /admin. */
export async function signInAsAdmin(page: Page) {
  check(ADMIN_EMAIL && ADMIN_PASSWORD, 'E2E_ADMIN_EMAIL / E2E_ADMIN_PASSWORD not set')
  await page.goto('/login?next=%2Fadmin')
  await page.getByLabel('Email').fill(ADMIN_EMAIL)
  await page.getByLabel('Password').fill(ADMIN_PASSWORD)
  await page.getByRole('button', { name: 'Log in', exact: true }).click()
  await page.waitForURL(/\/admin$/)
}

/** A listing created with the page's session, through the API the SPA uses; its id. */
export async function createListing(page: Page, listing: { name: string; category: string; price: string; stock: number; description?: string }) {
  const created = await page.evaluate(async (body) => {
    const res = await fetch('/api/products', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify(body),
    })
    return { status: res.status, body: await res.text() }
  }, listing)
  check(created.status === 201, `creating ${listing.name}: ${created.status} ${created.body}`)
  return (JSON.parse(created.body) as { id: string }).id
}

export async function addToCartAndCheckout(
  page: Page,
  productId: string,
  quantity: number,
  { loseFirstResponse = false, screenshot }: { loseFirstResponse?: boolean; screenshot?: string } = {},
) {
  await page.goto(`/products/${productId}`)
  await page.getByRole('heading', { level: 1 }).waitFor()
  for (let i = 1; i < quantity; i++) await page.getByRole('button', { name: 'One more' }).click()
  await page.getByRole('button', { name: 'Add to cart' }).click()
  await page.getByText(/Added \d+ to your cart/).waitFor()
  await page.goto('/cart')
  const place = page.getByRole('button', { name: 'Place order' })
  await place.waitFor()
  if (screenshot) await shot(page, screenshot)
  const keys: (string | undefined)[] = []
  const isPlaceOrder = (url: URL) => url.pathname === '/api/orders'
  await page.route(isPlaceOrder, async (route) => {
    if (route.request().method() !== 'POST') return route.fallback()
    keys.push(route.request().headers()['idempotency-key'])
    if (loseFirstResponse && keys.length === 1) {
      // The order reaches the service, but its answer is lost on the way back.
      await route.fetch()
      return route.abort('connectionreset')
    }
    return route.fallback()
  })
  if (loseFirstResponse) {
    await place.click()
    await page.getByText('Your order was not placed.').waitFor()
    await place.click() // the buyer tries again
  } else {
    // A double click must still place exactly one order.
    await place.dblclick()
  }
  await page.waitForURL(/\/orders\/[0-9a-f-]{36}$/)
  await page.unroute(isPlaceOrder)
  check(keys.length >= 1 && keys.every((k) => k && k === keys[0]), `checkout attempts used different Idempotency-Keys: ${keys.join(', ')}`)
  return page.url().split('/').pop() as string
}

/** An account made through the API, for scenarios that talk HTTP without a browser; its bearer token. */
export async function apiUser(name: string): Promise<string> {
  const body = { username: `${name}_${RUN}`, email: `${name}_${RUN}@example.com`, password }
  const post = (path: string, payload: unknown) =>
    fetch(`${BASE}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(payload) })
  const signup = await post('/api/auth/signup', body)
  check(signup.ok, `signup failed: ${signup.status} ${await signup.text()}`)
  const login = await post('/api/auth/login', { email: body.email, password: body.password })
  check(login.ok, `login failed: ${login.status}`)
  return ((await login.json()) as { access_token: string }).access_token
}
