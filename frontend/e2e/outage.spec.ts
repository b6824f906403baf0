// Run last (the "outage" project depends on all the others): the catalog service is stopped, and
// then every worker's console record is checked.
import { BASE, check, eventually, recordedConsoleProblems, shot, test } from './support.ts'

test.describe.configure({ mode: 'serial' })

test('with the catalog service down, the shop says so instead of showing a blank page', async ({ openPage }) => {
  const pid = Number(process.env.E2E_PRODUCTS_PID)
  check(pid > 0, 'E2E_PRODUCTS_PID not set')
  // The last area: scripts/test-frontend started this instance for us. On a retry it is gone already.
  try {
    process.kill(pid, 'SIGTERM')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err
  }
  await eventually('products-service to stop answering', async () => {
    const res = await fetch(`${BASE}/api/products`)
    return res.status === 503
  }, 20_000)
  const page = await openPage()
  await page.goto('/')
  await page.getByRole('alert').filter({ hasText: 'The catalog could not be loaded.' }).waitFor()
  await page.getByText('unavailable right now').waitFor()
  await page.getByRole('button', { name: 'Try again' }).waitFor()
  await shot(page, '19-service-down')
  await page.context().close()
})

test('no Content-Security-Policy violations or uncaught errors in the console', async () => {
  const problems = recordedConsoleProblems()
  check(problems.length === 0, problems.join('\n'))
})
