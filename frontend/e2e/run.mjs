// End-to-end scenarios in a real browser (Debian's Chromium through playwright-core) against nginx
// and the three real services. Started by scripts/test-frontend, which provides:
//   E2E_BASE_URL        the nginx address, e.g. http://127.0.0.1:18080
//   E2E_ARTIFACTS       where screenshots go (default ./e2e-artifacts)
//   E2E_ADMIN_EMAIL / E2E_ADMIN_PASSWORD   an admin account auth-service was started with
//   CHROMIUM            the browser binary (default /usr/bin/chromium)
//   E2E_NGINX_LOG       nginx's access log (to count the requests it passed to products-service)
//   E2E_PRODUCTS_REPLICA_URL   a second products-service replica, direct (nginx proxies the first)
// Prints one line per scenario and closes with "N passed, N failed"; exits non-zero on a failure.
import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { chromium } from 'playwright-core'

const BASE = (process.env.E2E_BASE_URL ?? '').replace(/\/$/, '')
if (!BASE) {
  console.error('E2E_BASE_URL is not set')
  process.exit(2)
}
const ARTIFACTS = resolve(process.env.E2E_ARTIFACTS ?? 'e2e-artifacts')
mkdirSync(ARTIFACTS, { recursive: true })
const ADMIN_EMAIL = process.env.E2E_ADMIN_EMAIL
const ADMIN_PASSWORD = process.env.E2E_ADMIN_PASSWORD
const REDIS_PREFIX = process.env.E2E_REDIS_PREFIX // the services' REDIS_KEY_PREFIX
const RUN = Date.now().toString(36) + Math.random().toString(36).slice(2, 6)
const STEP = 15_000 // how long one UI step may take
const ASYNC = 45_000 // how long an event-driven outcome (reservation, release) may take

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
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
})

/** Console problems seen on any page: CSP violations and uncaught errors. */
const consoleProblems = []

async function newPage(viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({ viewport, baseURL: BASE, locale: 'en-US', timezoneId: 'UTC' })
  const page = await context.newPage()
  page.setDefaultTimeout(STEP)
  page.on('console', (msg) => {
    const text = msg.text()
    if (/Content[ -]Security[ -]Policy|Refused to (load|apply|execute|connect|frame)/i.test(text)) {
      consoleProblems.push(`CSP on ${page.url()}: ${text}`)
    }
  })
  page.on('pageerror', (err) => consoleProblems.push(`uncaught error on ${page.url()}: ${err.message}`))
  // The CSP violation event catches what the console might word differently.
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`Content Security Policy violation: ${e.violatedDirective} blocked ${e.blockedURI}`)
    })
  })
  return page
}

/** How far the page scrolls sideways, and the elements sticking out (for the failure message). */
async function sidewaysOverflow(page) {
  return page.evaluate(() => {
    const width = window.innerWidth
    const culprits = []
    for (const el of document.querySelectorAll('body *')) {
      const right = el.getBoundingClientRect().right
      if (right > width + 0.5 && culprits.length < 5) culprits.push(`${el.tagName.toLowerCase()}.${String(el.className).split(' ')[0]} to ${Math.round(right)}px`)
    }
    return { overflow: document.documentElement.scrollWidth - width, culprits }
  })
}

async function checkNoSidewaysScroll(page, what) {
  // Layout settles a frame after a resize: poll briefly before judging.
  let last
  try {
    await eventually(`${what} to fit the screen`, async () => {
      last = await sidewaysOverflow(page)
      return last.overflow <= 1
    }, 3000, 200)
  } catch {
    throw new Error(`${what} scrolls sideways by ${last.overflow}px at phone width: ${last.culprits.join(', ')}`)
  }
}

async function shot(page, name) {
  await page.waitForLoadState('networkidle', { timeout: 5000 }).catch(() => {})
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true })
}

function check(condition, message) {
  if (!condition) throw new Error(message)
}

/** Polls `probe` until it returns a truthy value or the deadline passes. */
async function eventually(what, probe, timeout = ASYNC, interval = 500) {
  const deadline = Date.now() + timeout
  let last
  for (;;) {
    try {
      const value = await probe()
      if (value) return value
    } catch (err) {
      last = err
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? ` (${last.message})` : ''}`)
    await new Promise((r) => setTimeout(r, interval))
  }
}

async function statusText(page) {
  return (await page.getByTestId('order-status').textContent())?.trim()
}

async function waitForStatus(page, label, timeout = ASYNC) {
  await page.getByTestId('order-status').filter({ hasText: new RegExp(`^${label}$`) }).waitFor({ timeout })
}

async function signUp(page, username) {
  await page.goto('/signup')
  await page.getByLabel('Username').fill(username)
  await page.getByLabel('Email').fill(`${username}@example.com`)
  await page.getByLabel('Password').fill(`correct-horse-${RUN}`)
  await page.getByRole('button', { name: 'Sign up', exact: true }).click()
  await page.getByTestId('whoami').filter({ hasText: username }).waitFor()
}

async function addToCartAndCheckout(page, productId, quantity, { loseFirstResponse = false, screenshot } = {}) {
  await page.goto(`/products/${productId}`)
  await page.getByRole('heading', { level: 1 }).waitFor()
  for (let i = 1; i < quantity; i++) await page.getByRole('button', { name: 'One more' }).click()
  await page.getByRole('button', { name: 'Add to cart' }).click()
  await page.getByText(/Added \d+ to your cart/).waitFor()
  await page.goto('/cart')
  const place = page.getByRole('button', { name: 'Place order' })
  await place.waitFor()
  if (screenshot) await shot(page, screenshot)
  const keys = []
  const isPlaceOrder = (url) => new URL(url).pathname === '/api/orders'
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
  return page.url().split('/').pop()
}

// Shared between scenarios, in order.
const state = {}
const scenarios = []
const scenario = (name, fn, needs = []) => scenarios.push({ name, fn, needs })

scenario('nginx sends the security and cache headers and passes the request id through', async () => {
  const index = await fetch(`${BASE}/orders/some-client-route`)
  check(index.ok && (await index.text()).includes('<div id="root">'), 'client-side routes do not fall back to index.html')
  const csp = index.headers.get('content-security-policy') ?? ''
  check(/frame-ancestors 'none'/.test(csp) && /script-src 'self'/.test(csp), `weak or missing CSP: ${csp}`)
  check(index.headers.get('x-content-type-options') === 'nosniff', 'X-Content-Type-Options missing')
  check(Boolean(index.headers.get('referrer-policy')), 'Referrer-Policy missing')
  check(index.headers.get('cache-control') === 'no-cache', `index.html cache-control: ${index.headers.get('cache-control')}`)
  const html = await (await fetch(`${BASE}/`)).text()
  const asset = html.match(/\/assets\/[^"]+\.js/)?.[0]
  check(asset, 'no hashed script in index.html')
  const js = await fetch(`${BASE}${asset}`, { headers: { 'Accept-Encoding': 'gzip' } })
  check(/immutable/.test(js.headers.get('cache-control') ?? ''), `hashed asset cache-control: ${js.headers.get('cache-control')}`)
  check(js.headers.get('content-encoding') === 'gzip', 'the script is not gzipped')
  check((await fetch(`${BASE}/assets/missing.js`)).status === 404, 'a missing asset is not a 404')
  const mine = await fetch(`${BASE}/api/products?per_page=1`, { headers: { 'X-Request-ID': `e2e-${RUN}` } })
  check(mine.headers.get('x-request-id') === `e2e-${RUN}`, `request id not passed through: ${mine.headers.get('x-request-id')}`)
  const minted = await fetch(`${BASE}/api/products?per_page=1`)
  check(/^[0-9a-f]{32}$/.test(minted.headers.get('x-request-id') ?? ''), `no request id minted: ${minted.headers.get('x-request-id')}`)
  const unknown = await fetch(`${BASE}/api/nothing-here`)
  check(unknown.status === 404 && (await unknown.json()).error?.code === 'not_found', 'unknown API routes do not answer in the error shape')
})

/** An account made through the API, for scenarios that talk HTTP without a browser. */
async function apiUser(name) {
  const body = { username: `${name}_${RUN}`, email: `${name}_${RUN}@example.com`, password: `correct-horse-${RUN}` }
  const post = (path, payload) =>
    fetch(`${BASE}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(payload) })
  const signup = await post('/api/auth/signup', body)
  check(signup.ok, `signup failed: ${signup.status} ${await signup.text()}`)
  const login = await post('/api/auth/login', { email: body.email, password: body.password })
  check(login.ok, `login failed: ${login.status}`)
  return (await login.json()).access_token
}

/** Lines of nginx's access log for `path` that nginx passed to products-service. */
function upstreamRequests(path) {
  const lines = readFileSync(process.env.E2E_NGINX_LOG, 'utf8').split('\n')
  const mine = lines.filter((line) => line.includes(`"GET ${path} HTTP`))
  return { logged: mine.length, upstream: mine.filter((line) => !/ upstream=- /.test(line)).length }
}

scenario('nginx serves anonymous catalog reads from its cache: a burst makes one upstream request, signed-in reads never touch it', async () => {
  check(process.env.E2E_NGINX_LOG, 'E2E_NGINX_LOG not set')
  // A query string nobody asked for yet (the service ignores the unknown parameter).
  const path = `/api/products?q=turntable&burst=${RUN}`
  const burst = await Promise.all(Array.from({ length: 20 }, () => fetch(`${BASE}${path}`)))
  check(burst.every((r) => r.status === 200), `burst statuses: ${burst.map((r) => r.status).join(',')}`)
  const counted = await eventually('nginx to log the burst', async () => {
    const count = upstreamRequests(path)
    return count.logged === 20 && count
  }, 5000, 100)
  check(counted.upstream === 1, `a burst of 20 identical anonymous requests made ${counted.upstream} upstream requests`)
  check(burst[0].headers.get('cache-control') === 'public, max-age=0, s-maxage=1, stale-while-revalidate=1', `cache-control: ${burst[0].headers.get('cache-control')}`)
  // The browser revalidates; nginx answers from its copy.
  const tag = burst[0].headers.get('etag')
  const revalidated = await fetch(`${BASE}${path}`, { headers: { 'If-None-Match': tag } })
  check(revalidated.status === 304, `If-None-Match with the ETag gave ${revalidated.status}`)

  const token = await apiUser('cacher')
  const fresh = `/api/products?q=record&signed=${RUN}`
  for (const credentials of [{ Authorization: `Bearer ${token}` }, { Cookie: `access_token=${token}` }]) {
    const signedIn = await fetch(`${BASE}${fresh}`, { headers: credentials })
    check(signedIn.status === 200, `signed-in read: ${signedIn.status}`)
    check(signedIn.headers.get('x-cache-status') === 'BYPASS', `a signed-in read came from the cache: ${signedIn.headers.get('x-cache-status')}`)
    check(signedIn.headers.get('cache-control') === 'private, no-cache', `signed-in cache-control: ${signedIn.headers.get('cache-control')}`)
  }
  const anonymous = await fetch(`${BASE}${fresh}`)
  check(anonymous.headers.get('x-cache-status') === 'MISS', `the signed-in reads were stored in the shared cache: ${anonymous.headers.get('x-cache-status')}`)
  check((await fetch(`${BASE}${fresh}`)).headers.get('x-cache-status') === 'HIT', 'an anonymous read was not cached')
  const mine = await fetch(`${BASE}/api/products/mine`, { headers: { Authorization: `Bearer ${token}` } })
  check(mine.status === 200 && mine.headers.get('cache-control') === 'private, no-store', `mine: ${mine.status} ${mine.headers.get('cache-control')}`)
  check(mine.headers.get('x-cache-status') === 'BYPASS', `mine went through the cache: ${mine.headers.get('x-cache-status')}`)
})

scenario('an edit and a deletion made on one replica show through nginx within 2 s, and a deleted listing is never served after', async () => {
  const replica = process.env.E2E_PRODUCTS_REPLICA_URL
  check(replica, 'E2E_PRODUCTS_REPLICA_URL not set')
  const token = await apiUser('replicaseller')
  const auth = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }
  const created = await fetch(`${replica}/api/products`, {
    method: 'POST',
    headers: auth,
    body: JSON.stringify({ name: `Replica gramophone ${RUN}`, category: 'Audio', price: '80.00', stock: 3 }),
  })
  check(created.status === 201, `create on the replica: ${created.status}`)
  const { id } = await created.json()
  const product = `/api/products/${id}`
  const search = `/api/products?q=${encodeURIComponent(`gramophone ${RUN}`)}`
  // Both reads are now in nginx's cache (anonymous), served by the other replica.
  await eventually('the new listing through nginx', async () => (await fetch(`${BASE}${product}`)).ok, 5000, 100)
  await fetch(`${BASE}${search}`)

  /** Polls `fresh` through nginx for 3.5 s from `since`: stale after 2 s, or stale again after fresh, fails. */
  async function freshWithinTwoSeconds(what, since, fresh) {
    let freshAt = null
    for (;;) {
      const asked = Date.now() - since
      if (await fresh()) {
        freshAt ??= asked
      } else {
        check(asked < 2000, `${what}: still stale ${asked} ms after the change`)
        check(freshAt === null, `${what}: fresh at ${freshAt} ms, stale again at ${asked} ms`)
      }
      if (asked > 3500) return freshAt
      await new Promise((r) => setTimeout(r, 100))
    }
  }
  const edited = await fetch(`${replica}${product}`, { method: 'PATCH', headers: auth, body: JSON.stringify({ price: '75.00' }) })
  check(edited.status === 200, `edit on the replica: ${edited.status}`)
  await freshWithinTwoSeconds('the new price', Date.now(), async () => {
    const [one, list] = await Promise.all([fetch(`${BASE}${product}`), fetch(`${BASE}${search}`)])
    const listed = (await list.json()).items.find((item) => item.id === id)
    return (await one.json()).price === '75.00' && listed?.price === '75.00'
  })
  const deleted = await fetch(`${replica}${product}`, { method: 'DELETE', headers: auth })
  check(deleted.status === 204, `delete on the replica: ${deleted.status}`)
  await freshWithinTwoSeconds('the deletion', Date.now(), async () => {
    const [one, list] = await Promise.all([fetch(`${BASE}${product}`), fetch(`${BASE}${search}`)])
    const listed = (await list.json()).items.some((item) => item.id === id)
    return one.status === 404 && !listed
  })
})

scenario('a logged-out visitor asking for their orders is sent to login', async () => {
  const page = await newPage()
  await page.goto('/orders')
  await page.waitForURL(/\/login\?next=%2Forders$/)
  await page.getByRole('heading', { name: 'Log in' }).waitFor()
  await shot(page, '01-login')
  await page.goto('/sell/new')
  await page.waitForURL(/\/login\?next=%2Fsell%2Fnew$/)
  await page.context().close()
})

scenario('"try the demo" signs in as demo and the seeded catalog is browsable', async () => {
  const page = await newPage()
  await page.goto('/login')
  await page.getByRole('button', { name: 'Try the demo' }).click()
  await page.getByTestId('whoami').filter({ hasText: 'demo' }).waitFor()
  await page.goto('/')
  await page.getByTestId('product-card').first().waitFor()
  const cards = await page.getByTestId('product-card').count()
  check(cards > 1, `expected a seeded catalog, saw ${cards} cards`)
  await shot(page, '02-catalog')
  // Category filter and sort go through the URL and the API.
  const category = page.getByLabel('Category')
  const options = await category.locator('option').allTextContents()
  check(options.length > 1, 'no categories offered')
  const filteredList = page.waitForResponse((r) => /\/api\/products\?.*category=/.test(r.url()))
  await category.selectOption({ index: 1 })
  await page.waitForURL(/category=/)
  check((await filteredList).ok(), 'the filtered catalog request failed')
  await page.locator('section.results[aria-busy="false"]').waitFor()
  const chosen = (await category.inputValue()).trim()
  const shown = await page.locator('.product-card__seller').allTextContents()
  check(shown.length > 0 && shown.every((t) => t.startsWith(`${chosen} ·`)), `category filter ${chosen} shows: ${shown.slice(0, 3).join(' | ')}`)
  const sortedList = page.waitForResponse((r) => /\/api\/products\?.*sort=price_asc/.test(r.url()))
  await page.getByLabel('Sort by').selectOption('price_asc')
  await page.waitForURL(/sort=price_asc/)
  check((await sortedList).ok(), 'the sorted catalog request failed')
  await page.locator('section.results[aria-busy="false"]').waitFor()
  await page.getByTestId('product-card').first().waitFor()
  const priceList = async () => (await page.locator('.product-card .price').allTextContents()).map((p) => Number(p.replace(/[^0-9.]/g, '')))
  const prices = await priceList()
  check(prices.every((p, i) => i === 0 || prices[i - 1] <= p), `prices not ascending: ${prices.join(', ')}`)
  // A price range over the whole catalog, then the second page of it.
  await page.goto('/')
  await page.getByTestId('product-card').first().waitFor()
  await page.getByLabel('Lowest price').fill('20')
  await page.getByLabel('Highest price').fill('300')
  const ranged = page.waitForResponse((r) => /\/api\/products\?.*min_price=20.*max_price=300/.test(r.url()))
  await page.getByRole('button', { name: 'Apply' }).click()
  check((await ranged).ok(), 'the price-range request failed')
  await page.locator('section.results[aria-busy="false"]').waitFor()
  const inRange = await priceList()
  check(inRange.length > 0 && inRange.every((p) => p >= 20 && p <= 300), `prices outside 20-300: ${inRange.join(', ')}`)
  const cardLinks = () => page.locator('.product-card__link').evaluateAll((links) => links.map((a) => a.getAttribute('href')))
  const firstPage = await cardLinks()
  const second = page.waitForResponse((r) => /\/api\/products\?.*page=2/.test(r.url()))
  await page.getByRole('link', { name: 'Page 2' }).click()
  check((await second).ok(), 'the second page request failed')
  await page.locator('section.results[aria-busy="false"]').waitFor()
  await page.waitForURL(/page=2/)
  const secondPage = await cardLinks()
  check(secondPage.length > 0 && secondPage.every((n) => !firstPage.includes(n)), 'page 2 repeats products of page 1')
  check((await priceList()).every((p) => p >= 20 && p <= 300), 'page 2 lost the price range')
  // demo buys one of demo2's listings and leaves it unpaid: a later scenario watches it expire.
  const productId = await page.evaluate(async () => {
    const body = await (await fetch('/api/products?per_page=100&sort=price_asc')).json()
    return body.items.find((p) => p.seller_name === 'demo2' && p.stock > 0)?.id
  })
  check(productId, 'no listing of demo2 in stock')
  state.expiringOrderId = await addToCartAndCheckout(page, productId, 1)
  await waitForStatus(page, 'Confirmed')
  await page.evaluate(() => {
    window.__e2eNoReload = true
  })
  state.expiring = page
})

scenario('a search shows its category counts in the filter, and a misspelt word still finds turntables', async () => {
  const page = await newPage()
  await page.goto('/')
  await page.getByTestId('product-card').first().waitFor()
  const search = async (text) => {
    const listed = page.waitForResponse((r) => r.url().includes('/api/products?') && r.url().includes(`q=${text}`))
    await page.getByLabel('Search products').fill(text)
    await page.getByLabel('Search products').press('Enter')
    const response = await listed
    check(response.ok(), `the search for ${text} failed: ${response.status()}`)
    await page.locator('section.results[aria-busy="false"]').waitFor()
    return response.json()
  }
  const found = await search('turntable')
  check(found.total > 0 && !found.fuzzy, `turntable: ${found.total} results, fuzzy ${found.fuzzy}`)
  check(found.sort === 'relevance', `a search is ranked by best match: ${found.sort}`)
  // The category filter offers the search's own counts.
  const options = (await page.getByLabel('Category').locator('option').allTextContents()).slice(1)
  const expected = found.facets.map((f) => `${f.name} (${f.count})`)
  check(JSON.stringify(options) === JSON.stringify(expected), `category options ${options.join(', ')} are not the facets ${expected.join(', ')}`)
  const [first] = found.facets
  const narrowed = page.waitForResponse((r) => r.url().includes(`category=${encodeURIComponent(first.name)}`))
  await page.getByLabel('Category').selectOption(first.name)
  check((await narrowed).ok(), 'the narrowed search failed')
  await page.locator('section.results[aria-busy="false"]').waitFor()
  const cards = await page.getByTestId('product-card').count()
  check(cards === Math.min(first.count, 24), `${first.name} shows ${cards} cards, its facet says ${first.count}`)
  await shot(page, '02b-search-facets')

  await page.getByRole('button', { name: 'Clear filters' }).click()
  const typo = await search('turntabel')
  check(typo.fuzzy && typo.total > 0, `turntabel: fuzzy ${typo.fuzzy}, ${typo.total} results`)
  await page.getByTestId('fuzzy-notice').waitFor()
  const names = await page.locator('.product-card__name').allTextContents()
  check(names.length > 0 && names.every((n) => /turntable/i.test(n)), `turntabel shows: ${names.join(' | ')}`)
  await shot(page, '02c-search-typo')
  await page.context().close()
})

scenario('a new user signs up and lists a product, with field errors shown next to the fields', async () => {
  const page = await newPage()
  state.sellerName = `seller_${RUN}`
  await signUp(page, state.sellerName)
  await page.goto('/sell/new')
  state.productName = `Walnut turntable ${RUN}`
  await page.getByLabel('Name').fill(state.productName)
  await page.getByLabel('Description').fill('A belt-driven turntable in a solid walnut plinth. Serviced last spring; new belt and stylus.')
  await page.getByLabel('Category').fill('Gear')
  await page.getByLabel('Price (USD)').fill('0')
  await page.getByLabel('Stock').fill('5')
  await page.getByRole('button', { name: 'Publish listing' }).click()
  // The service's 422 names the price; the message appears under the price field.
  await page.locator('[data-field="price"] .field__error').waitFor()
  check((await page.getByLabel('Price (USD)').getAttribute('aria-invalid')) === 'true', 'price not marked invalid')
  await shot(page, '03-listing-form-errors')
  await page.getByLabel('Price (USD)').fill('149.00')
  await page.getByRole('button', { name: 'Publish listing' }).click()
  await page.waitForURL(/\/products\/[0-9a-f-]{36}$/)
  state.productId = page.url().split('/').pop()
  await page.getByRole('heading', { name: state.productName }).waitFor()
  check((await page.getByTestId('product-stock').textContent()).includes('5 in stock'), 'new listing does not show 5 in stock')
  await shot(page, '04-product-own')
  state.seller = page
})

scenario('a second user finds it by search, checks out, sees CONFIRMED live, pays and sees PAID', async () => {
  const page = await newPage()
  state.buyerName = `buyer_${RUN}`
  await signUp(page, state.buyerName)
  await page.goto('/')
  await page.getByLabel('Search products').fill(`turntable ${RUN}`)
  await page.getByLabel('Search products').press('Enter')
  await page.waitForURL(/q=turntable/)
  const card = page.getByTestId('product-card').filter({ hasText: state.productName })
  await card.waitFor()
  await shot(page, '05-search')
  await card.click()
  await page.waitForURL(new RegExp(`/products/${state.productId}$`))
  await shot(page, '06-product')
  await page.goto('/')
  const orderId = await addToCartAndCheckout(page, state.productId, 2, { screenshot: '06b-cart' })
  state.paidOrderId = orderId
  // Mark the document: if the page were reloaded, the mark would be gone.
  await page.evaluate(() => {
    window.__e2eNoReload = true
  })
  await waitForStatus(page, 'Confirmed')
  check(await page.evaluate(() => window.__e2eNoReload === true), 'the page was reloaded to show CONFIRMED')
  await page.getByTestId('countdown').waitFor()
  await shot(page, '07-order-confirmed')
  await page.getByRole('button', { name: /Use the test card .*\(approved\)/ }).click()
  await page.getByRole('button', { name: /^Pay / }).click()
  await waitForStatus(page, 'Paid')
  await page.getByText('Your payment of').waitFor()
  await shot(page, '08-order-paid')
  await page.goto('/orders')
  await page.getByTestId('order-row').first().waitFor()
  const rows = await page.getByTestId('order-row').count()
  check(rows === 1, `a double click on "Place order" made ${rows} orders`)
  await shot(page, '09-my-orders')
  state.buyer = page
}, ['a new user signs up and lists a product, with field errors shown next to the fields'])

scenario('the seller sees the stock go down', async () => {
  const page = state.seller
  await page.goto('/sell')
  const row = page.getByTestId('listing-row').filter({ hasText: state.productName })
  await row.waitFor()
  await eventually('stock 3 on the seller page', async () => {
    const text = await row.getByTestId('listing-stock').textContent()
    if (text.includes('3 in stock')) return true
    await page.reload()
    await row.waitFor()
    return false
  })
  await shot(page, '10-my-listings')
}, ['a second user finds it by search, checks out, sees CONFIRMED live, pays and sees PAID'])

scenario('a retried checkout after a lost response places one order, and a declined card shows its state', async () => {
  const page = state.buyer
  state.declinedOrderId = await addToCartAndCheckout(page, state.productId, 1, { loseFirstResponse: true })
  await waitForStatus(page, 'Confirmed')
  await page.getByRole('button', { name: /Use the test card .*\(declined\)/ }).click()
  await page.getByRole('button', { name: /^Pay / }).click()
  await page.getByText('Card declined.').waitFor()
  check((await statusText(page)) === 'Confirmed', 'a declined payment changed the status')
  await shot(page, '11-order-declined')
  await page.setViewportSize({ width: 390, height: 844 })
  await checkNoSidewaysScroll(page, 'the order page')
  await shot(page, '11b-order-phone')
  await page.setViewportSize({ width: 1280, height: 900 })
  const orders = await page.evaluate(async () => (await (await fetch('/api/orders', { credentials: 'same-origin' })).json()).total)
  check(orders === 2, `expected 2 orders after the retried checkout, the service has ${orders}`)
}, ['a second user finds it by search, checks out, sees CONFIRMED live, pays and sees PAID'])

scenario('cancelling an order shows CANCELLED and gives the stock back', async () => {
  const page = state.buyer
  await page.getByRole('button', { name: 'Cancel order' }).click()
  await page.getByRole('button', { name: 'Yes, cancel order' }).click()
  await waitForStatus(page, 'Cancelled')
  await shot(page, '12-order-cancelled')
  const seller = state.seller
  await seller.goto('/sell')
  const row = seller.getByTestId('listing-row').filter({ hasText: state.productName })
  await eventually('stock back to 3 after the cancel', async () => {
    await seller.reload()
    await row.waitFor()
    return (await row.getByTestId('listing-stock').textContent()).includes('3 in stock')
  })
}, ['a retried checkout after a lost response places one order, and a declined card shows its state'])

scenario('an order the stock cannot cover is REJECTED with the reason in plain words', async () => {
  const buyer = state.buyer
  await buyer.goto(`/products/${state.productId}`)
  await buyer.getByRole('button', { name: 'One more' }).click()
  await buyer.getByRole('button', { name: 'Add to cart' }).click() // 2 of the 3 left
  await buyer.getByText(/Added 2 to your cart/).waitFor()
  // Meanwhile the seller sells the rest elsewhere and sets the stock to 1.
  const seller = state.seller
  await seller.goto(`/sell/${state.productId}/edit`)
  await seller.getByLabel('Stock').fill('1')
  await seller.getByRole('button', { name: 'Save changes' }).click()
  await seller.waitForURL(/\/sell$/)
  await buyer.goto('/cart')
  await buyer.getByRole('button', { name: 'Place order' }).click()
  await buyer.waitForURL(/\/orders\/[0-9a-f-]{36}$/)
  await waitForStatus(buyer, 'Rejected')
  const reason = await buyer.getByTestId('order-reason').textContent()
  check(/sold out/.test(reason), `unexpected reason text: ${reason}`)
  await shot(buyer, '13-order-rejected')
}, ['cancelling an order shows CANCELLED and gives the stock back'])

scenario('a stale edit tells the seller someone else changed the listing', async () => {
  const first = state.seller
  const second = await first.context().newPage()
  second.setDefaultTimeout(STEP)
  await first.goto(`/sell/${state.productId}/edit`)
  await second.goto(`/sell/${state.productId}/edit`)
  await first.getByLabel('Price (USD)').waitFor()
  await second.getByLabel('Price (USD)').waitFor()
  await first.getByLabel('Price (USD)').fill('139.00')
  await first.getByRole('button', { name: 'Save changes' }).click()
  await first.waitForURL(/\/sell$/)
  await second.getByLabel('Description').fill('Edited in a second tab.')
  await second.getByRole('button', { name: 'Save changes' }).click()
  await second.getByTestId('stale-edit').waitFor()
  check((await second.getByTestId('stale-edit').textContent()).includes('Someone else changed this listing'), 'stale edit message missing')
  await shot(second, '14-stale-edit')
  await second.close()
}, ['a new user signs up and lists a product, with field errors shown next to the fields'])

scenario('the seller deletes the listing and it leaves the catalog', async () => {
  const page = state.seller
  await page.goto('/sell')
  const row = page.getByTestId('listing-row').filter({ hasText: state.productName })
  await row.getByRole('button', { name: `Delete ${state.productName}` }).click()
  await row.getByRole('button', { name: 'Delete', exact: true }).click()
  await page.getByText('You are not selling anything yet').waitFor()
  const visitor = await newPage()
  await visitor.goto(`/?q=${encodeURIComponent(`turntable ${RUN}`)}`)
  // Nothing matches both words any more (a typo-tolerant guess may show other turntables).
  await visitor.locator('section.results[aria-busy="false"]').waitFor()
  await visitor.getByRole('heading', { name: 'Nothing matches' }).or(visitor.getByTestId('fuzzy-notice')).first().waitFor()
  const shown = await visitor.locator('.product-card__name').allTextContents()
  check(!shown.includes(state.productName), `the deleted listing is still listed: ${shown.join(' | ')}`)
  await visitor.goto(`/products/${state.productId}`)
  await visitor.getByRole('heading', { name: 'This product is gone' }).waitFor()
  await visitor.context().close()
}, ['an order the stock cannot cover is REJECTED with the reason in plain words', 'a stale edit tells the seller someone else changed the listing'])

scenario('a user can log in with the keyboard alone', async () => {
  const page = await newPage()
  await page.goto('/login')
  await page.getByRole('heading', { name: 'Log in' }).waitFor()
  // From the top of the page: skip link, logo, navigation, header buttons, cart, then the form.
  let reached = false
  for (let i = 0; i < 15 && !reached; i++) {
    await page.keyboard.press('Tab')
    reached = await page.evaluate(() => document.activeElement?.getAttribute('name') === 'email')
  }
  check(reached, 'the email field cannot be reached with Tab')
  await page.keyboard.type('demo@demo.com')
  await page.keyboard.press('Tab')
  await page.keyboard.type('demotest')
  await page.keyboard.press('Enter')
  await page.getByTestId('whoami').filter({ hasText: 'demo' }).waitFor()
  await page.context().close()
})

scenario('an expired access token is refreshed silently', async () => {
  const page = state.seller
  const context = page.context()
  await page.goto('/')
  await page.getByTestId('whoami').waitFor()
  // What the browser holds once the short-lived access cookie has expired: only the refresh cookie.
  await context.clearCookies({ name: 'access_token' })
  await page.getByRole('link', { name: 'Sell', exact: true }).click()
  await page.getByRole('heading', { name: 'Your listings' }).waitFor()
  await page.getByTestId('listing-row').first().or(page.getByText('You are not selling anything yet')).waitFor()
  check(!page.url().includes('/login'), 'sent to login although the session could be refreshed')
  const cookies = await context.cookies()
  check(cookies.some((c) => c.name === 'access_token'), 'no new access token after the refresh')
}, ['a new user signs up and lists a product, with field errors shown next to the fields'])

scenario('a session revoked elsewhere returns to login', async () => {
  const page = state.seller
  await page.goto('/')
  await page.getByTestId('whoami').waitFor()
  // The same session logged out from another window: the access token is deny-listed and the
  // refresh token revoked.
  const other = await browser.newContext({ baseURL: BASE })
  await other.addCookies(await page.context().cookies())
  const otherPage = await other.newPage()
  await otherPage.goto('/')
  await otherPage.getByRole('button', { name: 'Log out' }).click()
  await otherPage.getByRole('link', { name: 'Log in' }).first().waitFor()
  await other.close()
  await page.getByRole('link', { name: 'Sell', exact: true }).click()
  await page.waitForURL(/\/login\?next=%2Fsell$/)
  await page.getByText('Your session ended. Please log in again.').waitFor()
  await shot(page, '18-session-ended')
}, ['a new user signs up and lists a product, with field errors shown next to the fields'])

scenario('two tabs refreshing the session at the same moment both stay signed in', async () => {
  const first = await newPage()
  const username = `tabs_${RUN}`
  await signUp(first, username)
  const context = first.context()
  const second = await context.newPage()
  second.setDefaultTimeout(STEP)
  await second.goto('/')
  await second.getByTestId('whoami').filter({ hasText: username }).waitFor()
  // Both tabs refresh with the one refresh cookie at the same moment, as each does when it finds
  // the access cookie expired: each refresh is held until both are on their way, so neither
  // carries the other's new cookie.
  let release
  const bothSent = new Promise((resolve) => (release = resolve))
  const cookies = []
  const hold = async (route) => {
    cookies.push((await route.request().allHeaders()).cookie ?? '')
    if (cookies.length === 2) release()
    await Promise.race([bothSent, new Promise((resolve) => setTimeout(resolve, 5000))])
    return route.fallback()
  }
  await context.route('**/api/auth/refresh', hold)
  const statuses = await Promise.all(
    [first, second].map((page) =>
      page.evaluate(async () => (await fetch('/api/auth/refresh', { method: 'POST', credentials: 'same-origin' })).status),
    ),
  )
  await context.unroute('**/api/auth/refresh', hold)
  check(cookies.length === 2 && cookies[0] === cookies[1], `the two refreshes did not carry the same cookie: ${cookies.length} seen`)
  check(statuses.every((s) => s === 200), `the two tabs' refreshes answered ${statuses.join(' and ')}`)
  // And both tabs go on signed in, each refreshing silently when its access cookie is gone.
  for (const page of [first, second]) {
    await context.clearCookies({ name: 'access_token' })
    await page.getByRole('link', { name: 'Sell', exact: true }).click()
    await page.getByRole('heading', { name: 'Your listings' }).waitFor()
    check(!page.url().includes('/login'), 'a tab was signed out by the other tab\'s refresh')
  }
  // The session goes on: once more, from one tab.
  await context.clearCookies({ name: 'access_token' })
  await first.goto('/orders')
  await first.getByRole('heading', { name: 'Your orders' }).waitFor()
  check(!first.url().includes('/login'), 'the session did not survive the next refresh')
  await context.close()
})

scenario('signing out everywhere ends the session in the other browser too', async () => {
  const laptop = await newPage()
  const username = `everywhere_${RUN}`
  await signUp(laptop, username)
  const phone = await newPage()
  await phone.goto('/login')
  await phone.getByLabel('Email').fill(`${username}@example.com`)
  await phone.getByLabel('Password').fill(`correct-horse-${RUN}`)
  await phone.getByRole('button', { name: 'Log in', exact: true }).click()
  await phone.getByTestId('whoami').filter({ hasText: username }).waitFor()
  await laptop.getByRole('button', { name: 'Sign out everywhere' }).click()
  await laptop.waitForURL(/\/login$/)
  await laptop.getByRole('link', { name: 'Log in' }).first().waitFor()
  await phone.getByRole('link', { name: 'Sell', exact: true }).click()
  await phone.waitForURL(/\/login\?next=%2Fsell$/)
  await phone.getByText('Your session ended. Please log in again.').waitFor()
  await laptop.context().close()
  await phone.context().close()
})

scenario('after logging out, the orders page sends the user to login', async () => {
  const page = state.buyer
  await page.getByRole('button', { name: 'Log out' }).click()
  await page.getByRole('link', { name: 'Log in' }).first().waitFor()
  await page.goto('/orders')
  await page.waitForURL(/\/login\?next=%2Forders$/)
}, ['a second user finds it by search, checks out, sees CONFIRMED live, pays and sees PAID'])

scenario('an admin sees stream health, finds an undecodable event in the dead letters and replays it', async () => {
  check(ADMIN_EMAIL && ADMIN_PASSWORD, 'E2E_ADMIN_EMAIL / E2E_ADMIN_PASSWORD not set')
  check(REDIS_PREFIX !== undefined, 'E2E_REDIS_PREFIX not set')
  // A producer bug: an order.placed whose envelope cannot be decoded. products-service must park
  // it in the dead letters instead of retrying forever.
  execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', '6379', 'XADD', `${REDIS_PREFIX}orders_stream`, '*', 'type', 'order.placed', 'event_id', 'not-a-uuid', 'source', 'e2e'])
  const page = await newPage()
  await page.goto('/login?next=%2Fadmin')
  await page.getByLabel('Email').fill(ADMIN_EMAIL)
  await page.getByLabel('Password').fill(ADMIN_PASSWORD)
  await page.getByRole('button', { name: 'Log in', exact: true }).click()
  await page.waitForURL(/\/admin$/)
  await page.getByTestId('stream-card').first().waitFor()
  const text = await page.locator('.stream-grid').textContent()
  check(/orders_stream/.test(text) && /inventory_stream/.test(text), `streams missing from the admin page: ${text.slice(0, 200)}`)
  const letter = page.getByTestId('dead-letter').filter({ hasText: 'undecodable' })
  await eventually('the dead letter on the admin page', async () => {
    if (await letter.count()) return true
    await page.getByRole('button', { name: 'Refresh' }).click()
    await page.getByRole('heading', { name: /Dead letters/ }).waitFor()
    return false
  })
  await letter.first().getByRole('button', { name: 'Details' }).click()
  await shot(page, '15-admin')
  await letter.first().getByRole('button', { name: 'Replay' }).click()
  await page.getByText(/Replayed one event/).waitFor()
  await page.context().close()
})

scenario('the shop reads well at phone width', async () => {
  const page = await newPage({ width: 390, height: 844 })
  await page.goto('/')
  await page.getByTestId('product-card').first().waitFor()
  await checkNoSidewaysScroll(page, 'the catalog')
  await page.waitForLoadState('networkidle', { timeout: 5000 }).catch(() => {})
  await page.screenshot({ path: join(ARTIFACTS, '16-catalog-phone.png') })
  await page.getByTestId('product-card').first().click()
  await page.waitForURL(/\/products\//)
  await page.getByRole('heading', { level: 1 }).waitFor()
  await shot(page, '17-product-phone')
  await page.context().close()
})

scenario('an unpaid order expires when its reservation window passes, and the page shows it live', async () => {
  const page = state.expiring
  const ttl = Number(process.env.E2E_RESERVATION_TTL_SECS ?? 900)
  await waitForStatus(page, 'Expired', (ttl + 30) * 1000)
  check(await page.evaluate(() => window.__e2eNoReload === true), 'the page was reloaded to show EXPIRED')
  check((await page.getByTestId('countdown').count()) === 0, 'the countdown is still shown')
  check((await page.getByRole('button', { name: /^Pay / }).count()) === 0, 'an expired order still offers payment')
  await shot(page, '20-order-expired')
  await page.context().close()
}, ['"try the demo" signs in as demo and the seeded catalog is browsable'])

scenario('the API reference at /api/docs offers the three services\' documents, each served through nginx', async () => {
  const bare = await fetch(`${BASE}/api/docs`, { redirect: 'manual' })
  check(bare.status === 301 && bare.headers.get('location') === '/api/docs/', `/api/docs: ${bare.status} to ${bare.headers.get('location')}`)
  const services = ['auth', 'products', 'orders']
  for (const service of services) {
    const res = await fetch(`${BASE}/api/${service}/openapi.json`)
    check(res.ok && /application\/json/.test(res.headers.get('content-type') ?? ''), `/api/${service}/openapi.json: ${res.status}`)
    const doc = await res.json()
    check(doc.openapi === '3.1.0' && doc.info?.title === `${service}-service`, `/api/${service}/openapi.json is not ${service}-service's OpenAPI 3.1 document`)
  }
  const bundle = await fetch(`${BASE}/api/docs/swagger-ui-bundle.js`)
  check(bundle.ok && bundle.headers.get('cache-control') === 'no-cache', `swagger-ui-bundle.js: ${bundle.status}, cache-control ${bundle.headers.get('cache-control')}`)
  const csp = (await fetch(`${BASE}/api/docs/`)).headers.get('content-security-policy') ?? ''
  check(/script-src 'self';/.test(csp) && /frame-ancestors 'none'/.test(csp), `the reference page's CSP: ${csp}`)
  const page = await newPage()
  await page.goto('/api/docs/')
  const title = page.locator('.swagger-ui .info .title')
  await title.filter({ hasText: 'products-service' }).waitFor()
  const select = page.locator('select#select')
  const names = await select.locator('option').allTextContents()
  check(services.every((service) => names.includes(`${service}-service`)), `the definition selector offers ${names.join(', ')}`)
  for (const service of services) {
    await select.selectOption({ label: `${service}-service` })
    await title.filter({ hasText: `${service}-service` }).waitFor()
    await page.locator(`.opblock-summary-path[data-path="/api/${service}/openapi.json"]`).first().waitFor()
    check((await page.locator('.opblock').count()) >= 10, `the ${service}-service reference shows few operations`)
  }
  // An operation opens with its parameters and responses (the error body among them).
  await page.locator('.opblock-summary').first().click()
  await page.locator('.opblock-body .responses-wrapper').first().waitFor()
  await page.getByRole('button', { name: 'Try it out' }).first().waitFor()
  check((await page.locator('.swagger-ui .errors-wrapper').count()) === 0, 'Swagger UI reports errors in a document')
  await shot(page, '21-api-docs')
  await page.context().close()
})

scenario('with the catalog service down, the shop says so instead of showing a blank page', async () => {
  const pid = Number(process.env.E2E_PRODUCTS_PID)
  check(pid > 0, 'E2E_PRODUCTS_PID not set')
  process.kill(pid, 'SIGTERM') // the last scenario: scripts/test-frontend started this instance for us
  await eventually('products-service to stop answering', async () => {
    const res = await fetch(`${BASE}/api/products`)
    return res.status === 503
  }, 20_000)
  const page = await newPage()
  await page.goto('/')
  await page.getByRole('alert').filter({ hasText: 'The catalog could not be loaded.' }).waitFor()
  await page.getByText('unavailable right now').waitFor()
  await page.getByRole('button', { name: 'Try again' }).waitFor()
  await shot(page, '19-service-down')
  await page.context().close()
})

scenario('no Content-Security-Policy violations or uncaught errors in the console', async () => {
  check(consoleProblems.length === 0, consoleProblems.join('\n'))
})

let passed = 0
let failed = 0
const outcome = new Map()
for (const s of scenarios) {
  const missing = s.needs.filter((n) => outcome.get(n) !== true)
  if (missing.length) {
    failed++
    outcome.set(s.name, false)
    console.log(`FAIL  ${s.name}\n      not run: needs "${missing[0]}", which failed`)
    continue
  }
  const started = Date.now()
  try {
    await Promise.race([
      s.fn(),
      new Promise((_, reject) => setTimeout(() => reject(new Error('scenario timed out after 180 s')), 180_000)),
    ])
    passed++
    outcome.set(s.name, true)
    console.log(`ok    ${s.name} (${((Date.now() - started) / 1000).toFixed(1)} s)`)
  } catch (err) {
    failed++
    outcome.set(s.name, false)
    console.log(`FAIL  ${s.name}\n      ${String(err?.message ?? err).split('\n').join('\n      ')}`)
    for (const page of [state.buyer, state.seller]) {
      if (page && !page.isClosed()) {
        await page
          .screenshot({ path: join(ARTIFACTS, `failure-${scenarios.indexOf(s) + 1}-${page === state.buyer ? 'buyer' : 'seller'}.png`), fullPage: true })
          .catch(() => {})
      }
    }
  }
}
await browser.close()
console.log(`screenshots: ${ARTIFACTS}`)
console.log(`${passed} passed, ${failed} failed`)
process.exit(failed ? 1 : 0)
