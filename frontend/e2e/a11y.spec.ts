// An accessibility audit (axe-core) of every page of the SPA, signed out, signed in and as the
// admin: no serious or critical violation anywhere.
import AxeBuilder from '@axe-core/playwright'
import type { Page } from '@playwright/test'
import {
  check,
  createListing,
  expect,
  RUN,
  signInAsAdmin,
  signUp,
  test,
  uniqueTag,
  waitForStatus,
} from './support.ts'

type Route = { path: string; ready?: (page: Page) => Promise<unknown> }

/** The serious and critical violations on the page as it is, in words naming the rule and the elements. */
async function scan(page: Page, what: string): Promise<string[]> {
  const { violations } = await new AxeBuilder({ page }).analyze()
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${what}: ${v.id} (${v.impact}) ${v.help}, at ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`)
}

/** `scan` of each route once it has loaded. */
async function audit(page: Page, routes: Route[]): Promise<string[]> {
  const found: string[] = []
  for (const route of routes) {
    await page.goto(route.path)
    await page.getByRole('heading', { level: 1 }).first().waitFor()
    await expect(page.locator('.loading')).toHaveCount(0)
    if (route.ready) await route.ready(page)
    found.push(...(await scan(page, route.path)))
  }
  return found
}

/** A listing of the seeded catalog in stock (demo2's: never the user's own). */
async function someProduct(page: Page): Promise<string> {
  const id = await page.evaluate(async () => {
    const body = (await (await fetch('/api/products?per_page=100&sort=price_asc')).json()) as {
      items: { id: string; seller_name: string; stock: number }[]
    }
    return body.items.find((p) => p.seller_name === 'demo2' && p.stock > 0)?.id
  })
  check(id, 'no listing of demo2 in stock')
  return id
}

const cards = (page: Page) => page.getByTestId('product-card').first().waitFor()

test('every page signed out has no serious or critical accessibility violation', async ({ openPage }) => {
  const page = await openPage()
  await page.goto('/')
  const product = await someProduct(page)
  const before = await audit(page, [
    { path: '/', ready: cards },
    { path: '/?q=turntable&sort=price_asc', ready: cards },
    { path: `/products/${product}` },
    { path: '/products/00000000-0000-7000-8000-000000000000' },
    { path: '/cart' },
    { path: '/login' },
    { path: '/signup' },
    { path: '/no-such-page' },
  ])
  // A cart with a line in it, and the login form answering a wrong password.
  await page.goto(`/products/${product}`)
  await page.getByRole('button', { name: 'Add to cart' }).click()
  await page.getByText(/Added \d+ to your cart/).waitFor()
  const filled = await audit(page, [{ path: '/cart' }])
  await page.goto('/login')
  await page.getByLabel('Email').fill(`nobody_${RUN}@example.com`)
  await page.getByLabel('Password').fill('not-the-password')
  await page.getByRole('button', { name: 'Log in', exact: true }).click()
  await page.getByRole('alert').first().waitFor()
  const failedLogin = await scan(page, '/login after a wrong password')
  const found = [...before, ...filled, ...failedLogin]
  expect(found, found.join('\n')).toEqual([])
})

test('the pages at phone width have no serious or critical accessibility violation', async ({ openPage }) => {
  const page = await openPage({ width: 390, height: 844 })
  await signUp(page, `a11yphone_${RUN}`)
  const product = await someProduct(page)
  const found = await audit(page, [
    { path: '/', ready: cards },
    { path: `/products/${product}` },
    { path: '/cart' },
    { path: '/orders' },
    { path: '/sell/new' },
  ])
  expect(found, found.join('\n')).toEqual([])
})

test('every page signed in has no serious or critical accessibility violation', async ({ openPage }) => {
  const page = await openPage()
  await signUp(page, `a11y_${RUN}`)
  const own = await createListing(page, { name: `Audited turntable ${uniqueTag()}`, category: 'Gear', price: '99.00', stock: 3 })
  const product = await someProduct(page)
  // An order waiting for payment, placed as the SPA places it.
  const order = await page.evaluate(async (productId) => {
    const res = await fetch('/api/orders', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'Idempotency-Key': crypto.randomUUID() },
      body: JSON.stringify({ items: [{ product_id: productId, quantity: 1 }] }),
    })
    const text = await res.text()
    return { status: res.status, text, id: res.ok ? (JSON.parse(text) as { id: string }).id : undefined }
  }, product)
  check(order.status === 201 && order.id, `placing an order: ${order.status} ${order.text}`)
  await page.goto(`/products/${product}`)
  await page.getByRole('button', { name: 'Add to cart' }).click()
  await page.getByText(/Added \d+ to your cart/).waitFor()
  const found = await audit(page, [
    { path: '/', ready: cards },
    { path: `/products/${product}` },
    { path: `/products/${own}` },
    { path: '/cart' },
    { path: '/orders', ready: (p) => p.getByTestId('order-row').first().waitFor() },
    { path: `/orders/${order.id}`, ready: (p) => waitForStatus(p, 'Confirmed') },
    { path: '/orders/00000000-0000-7000-8000-000000000000' },
    { path: '/sell', ready: (p) => p.getByTestId('listing-row').first().waitFor() },
    { path: '/sell/new' },
    { path: `/sell/${own}/edit` },
    { path: '/admin' },
  ])
  // The listing form with the service's field errors under its fields.
  await page.goto('/sell/new')
  await page.getByLabel('Name').fill('Audited gramophone')
  await page.getByLabel('Category').fill('Gear')
  await page.getByLabel('Price (USD)').fill('0')
  await page.getByRole('button', { name: 'Publish listing' }).click()
  await page.locator('[data-field="price"] .field__error').waitFor()
  found.push(...(await scan(page, '/sell/new with field errors')))
  expect(found, found.join('\n')).toEqual([])
})

test('the admin page has no serious or critical accessibility violation', async ({ openPage }) => {
  const page = await openPage()
  await signInAsAdmin(page)
  const found = await audit(page, [{ path: '/admin', ready: (p) => p.getByTestId('stream-card').first().waitFor() }])
  expect(found, found.join('\n')).toEqual([])
})
