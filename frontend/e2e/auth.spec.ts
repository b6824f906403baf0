// Sessions: sign-in paths, silent refresh, revocation from another browser or tab, sign-out.
import type { Route } from '@playwright/test'
import { BASE, check, password, RUN, shot, signUp, test, watchConsole } from './support.ts'

test('a logged-out visitor asking for their orders is sent to login', async ({ openPage }) => {
  const page = await openPage()
  await page.goto('/orders')
  await page.waitForURL(/\/login\?next=%2Forders$/)
  await page.getByRole('heading', { name: 'Log in' }).waitFor()
  await shot(page, '01-login')
  await page.goto('/sell/new')
  await page.waitForURL(/\/login\?next=%2Fsell%2Fnew$/)
  await page.context().close()
})

test('a user can log in with the keyboard alone', async ({ openPage }) => {
  const page = await openPage()
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

test('an expired access token is refreshed silently', async ({ openPage }) => {
  const page = await openPage()
  await signUp(page, `refresher_${RUN}`)
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
})

test('a session revoked elsewhere returns to login', async ({ browser, openPage }) => {
  const page = await openPage()
  await signUp(page, `revoked_${RUN}`)
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
})

test('two tabs refreshing the session at the same moment both stay signed in', async ({ openPage }) => {
  const first = await openPage()
  const username = `tabs_${RUN}`
  await signUp(first, username)
  const context = first.context()
  const second = await context.newPage()
  watchConsole(second)
  await second.goto('/')
  await second.getByTestId('whoami').filter({ hasText: username }).waitFor()
  // Both tabs refresh with the one refresh cookie at the same moment, as each does when it finds
  // the access cookie expired: each refresh is held until both are on their way, so neither
  // carries the other's new cookie.
  let release = () => {}
  const bothSent = new Promise<void>((resolve) => (release = resolve))
  const cookies: string[] = []
  const hold = async (route: Route) => {
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

test('signing out everywhere ends the session in the other browser too', async ({ openPage }) => {
  const laptop = await openPage()
  const username = `everywhere_${RUN}`
  await signUp(laptop, username)
  const phone = await openPage()
  await phone.goto('/login')
  await phone.getByLabel('Email').fill(`${username}@example.com`)
  await phone.getByLabel('Password').fill(password)
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

test('after logging out, the orders page sends the user to login', async ({ openPage }) => {
  const page = await openPage()
  await signUp(page, `leaver_${RUN}`)
  await page.getByRole('button', { name: 'Log out' }).click()
  await page.getByRole('link', { name: 'Log in' }).first().waitFor()
  await page.goto('/orders')
  await page.waitForURL(/\/login\?next=%2Forders$/)
})
