// Buying: search, cart, checkout with one Idempotency-Key, the status arriving live, payment,
// a declined card, cancelling, and a rejection the buyer can read. One seller and one buyer
// throughout, so the tests run in order.
import type { Page } from '@playwright/test'
import {
  addToCartAndCheckout,
  check,
  checkNoSidewaysScroll,
  createListing,
  eventually,
  newPage,
  shot,
  signUp,
  statusText,
  test,
  uniqueTag,
  waitForStatus,
} from './support.ts'

test.describe.configure({ mode: 'serial' })

const tag = uniqueTag()
/** Shared by the tests, in order. */
const state = {} as { seller: Page; productName: string; productId: string; buyer: Page }

// A seller with one listing of 5 (sell.spec.ts makes one through the form; here it is set-up).
test.beforeAll(async ({ browser }) => {
  state.seller = await newPage(browser)
  await signUp(state.seller, `shopseller_${tag}`)
  state.productName = `Walnut turntable ${tag}`
  state.productId = await createListing(state.seller, {
    name: state.productName,
    description: 'A belt-driven turntable in a solid walnut plinth. Serviced last spring; new belt and stylus.',
    category: 'Gear',
    price: '149.00',
    stock: 5,
  })
})

test.afterAll(async () => {
  await state.seller?.context().close()
  await state.buyer?.context().close()
})

test('a second user finds it by search, checks out, sees CONFIRMED live, pays and sees PAID', async ({ browser }) => {
  const page = await newPage(browser)
  state.buyer = page
  await signUp(page, `buyer_${tag}`)
  await page.goto('/')
  await page.getByLabel('Search products').fill(`turntable ${tag}`)
  await page.getByLabel('Search products').press('Enter')
  await page.waitForURL(/q=turntable/)
  const card = page.getByTestId('product-card').filter({ hasText: state.productName })
  await card.waitFor()
  await shot(page, '05-search')
  await card.click()
  await page.waitForURL(new RegExp(`/products/${state.productId}$`))
  await shot(page, '06-product')
  await page.goto('/')
  await addToCartAndCheckout(page, state.productId, 2, { screenshot: '06b-cart' })
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
})

test('the seller sees the stock go down', async () => {
  const page = state.seller
  await page.goto('/sell')
  const row = page.getByTestId('listing-row').filter({ hasText: state.productName })
  await row.waitFor()
  await eventually('stock 3 on the seller page', async () => {
    const text = await row.getByTestId('listing-stock').textContent()
    if (text?.includes('3 in stock')) return true
    await page.reload()
    await row.waitFor()
    return false
  })
  await shot(page, '10-my-listings')
})

test('a retried checkout after a lost response places one order, and a declined card shows its state', async () => {
  const page = state.buyer
  await addToCartAndCheckout(page, state.productId, 1, { loseFirstResponse: true })
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
})

test('cancelling an order shows CANCELLED and gives the stock back', async () => {
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
    return (await row.getByTestId('listing-stock').textContent())?.includes('3 in stock')
  })
})

test('an order the stock cannot cover is REJECTED with the reason in plain words', async () => {
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
  check(/sold out/.test(reason ?? ''), `unexpected reason text: ${reason}`)
  await shot(buyer, '13-order-rejected')
})
