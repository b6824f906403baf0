// An order's page follows the order live: an unpaid order expiring when its reservation ends
// (scripts/test-frontend runs orders-service with a short reservation window).
import { addToCartAndCheckout, check, shot, test, waitForStatus } from './support.ts'

const ttl = Number(process.env.E2E_RESERVATION_TTL_SECS ?? 900)

test('an unpaid order expires when its reservation window passes, and the page shows it live', async ({ openPage }) => {
  test.setTimeout((ttl + 90) * 1000)
  // demo buys one of demo2's listings and leaves it unpaid.
  const page = await openPage()
  await page.goto('/login')
  await page.getByRole('button', { name: 'Try the demo' }).click()
  await page.getByTestId('whoami').filter({ hasText: 'demo' }).waitFor()
  const productId = await page.evaluate(async () => {
    const body = (await (await fetch('/api/products?per_page=100&sort=price_asc')).json()) as {
      items: { id: string; seller_name: string; stock: number }[]
    }
    return body.items.find((p) => p.seller_name === 'demo2' && p.stock > 0)?.id
  })
  check(productId, 'no listing of demo2 in stock')
  await addToCartAndCheckout(page, productId, 1)
  await waitForStatus(page, 'Confirmed')
  await page.evaluate(() => {
    window.__e2eNoReload = true
  })

  await waitForStatus(page, 'Expired', (ttl + 30) * 1000)
  check(await page.evaluate(() => window.__e2eNoReload === true), 'the page was reloaded to show EXPIRED')
  check((await page.getByTestId('countdown').count()) === 0, 'the countdown is still shown')
  check((await page.getByRole('button', { name: /^Pay / }).count()) === 0, 'an expired order still offers payment')
  await shot(page, '20-order-expired')
  await page.context().close()
})
