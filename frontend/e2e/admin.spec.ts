// The admin page: stream health and dead letters, with a replay.
import { execFileSync } from 'node:child_process'
import { check, eventually, REDIS_PREFIX, shot, signInAsAdmin, test } from './support.ts'

test('an admin sees stream health, finds an undecodable event in the dead letters and replays it', async ({ openPage }) => {
  check(REDIS_PREFIX !== undefined, 'E2E_REDIS_PREFIX not set')
  // A producer bug: an order.placed whose envelope cannot be decoded. products-service must park
  // it in the dead letters instead of retrying forever.
  execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', '6379', 'XADD', `${REDIS_PREFIX}orders_stream`, '*', 'type', 'order.placed', 'event_id', 'not-a-uuid', 'source', 'e2e'])
  const page = await openPage()
  await signInAsAdmin(page)
  await page.getByTestId('stream-card').first().waitFor()
  const text = (await page.locator('.stream-grid').textContent()) ?? ''
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
