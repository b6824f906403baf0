// A seller's listing from sign-up to deletion: field errors from the service, a stale edit, and
// the deleted listing leaving the catalog. One seller throughout, so the tests run in order.
import type { Page } from '@playwright/test'
import { check, newPage, shot, signUp, test, uniqueTag, watchConsole } from './support.ts'

test.describe.configure({ mode: 'serial' })

const tag = uniqueTag()
/** Shared by the tests, in order. */
const state = {} as { seller: Page; sellerName: string; productName: string; productId: string }

test.afterAll(async () => {
  await state.seller?.context().close()
})

test('a new user signs up and lists a product, with field errors shown next to the fields', async ({ browser }) => {
  const page = await newPage(browser)
  state.seller = page
  state.sellerName = `seller_${tag}`
  await signUp(page, state.sellerName)
  await page.goto('/sell/new')
  state.productName = `Walnut turntable ${tag}`
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
  state.productId = page.url().split('/').pop() as string
  await page.getByRole('heading', { name: state.productName }).waitFor()
  check((await page.getByTestId('product-stock').textContent())?.includes('5 in stock'), 'new listing does not show 5 in stock')
  await shot(page, '04-product-own')
})

test('a stale edit tells the seller someone else changed the listing', async () => {
  const first = state.seller
  const second = await first.context().newPage()
  watchConsole(second)
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
  check((await second.getByTestId('stale-edit').textContent())?.includes('Someone else changed this listing'), 'stale edit message missing')
  await shot(second, '14-stale-edit')
  await second.close()
})

test('the seller deletes the listing and it leaves the catalog', async ({ openPage }) => {
  const page = state.seller
  await page.goto('/sell')
  const row = page.getByTestId('listing-row').filter({ hasText: state.productName })
  await row.getByRole('button', { name: `Delete ${state.productName}` }).click()
  await row.getByRole('button', { name: 'Delete', exact: true }).click()
  await page.getByText('You are not selling anything yet').waitFor()
  const visitor = await openPage()
  await visitor.goto(`/?q=${encodeURIComponent(`turntable ${tag}`)}`)
  // Nothing matches both words any more (a typo-tolerant guess may show other turntables).
  await visitor.locator('section.results[aria-busy="false"]').waitFor()
  await visitor.getByRole('heading', { name: 'Nothing matches' }).or(visitor.getByTestId('fuzzy-notice')).first().waitFor()
  const shown = await visitor.locator('.product-card__name').allTextContents()
  check(!shown.includes(state.productName), `the deleted listing is still listed: ${shown.join(' | ')}`)
  await visitor.goto(`/products/${state.productId}`)
  await visitor.getByRole('heading', { name: 'This product is gone' }).waitFor()
  await visitor.context().close()
})
