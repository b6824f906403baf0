// nginx in front of the services: headers, compression, caching, the catalog cache, replicas
// behind it, and the API reference it serves.
import { readFileSync } from 'node:fs'
import { apiUser, BASE, check, eventually, RUN, shot, test } from './support.ts'

/** Lines of nginx's access log for `path` that nginx passed to products-service. */
function upstreamRequests(path: string) {
  const lines = readFileSync(process.env.E2E_NGINX_LOG as string, 'utf8').split('\n')
  const mine = lines.filter((line) => line.includes(`"GET ${path} HTTP`))
  return { logged: mine.length, upstream: mine.filter((line) => !/ upstream=- /.test(line)).length }
}

test('nginx sends the security and cache headers and passes the request id through', async () => {
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

test('nginx serves anonymous catalog reads from its cache: a burst makes one upstream request, signed-in reads never touch it', async () => {
  check(process.env.E2E_NGINX_LOG, 'E2E_NGINX_LOG not set')
  // A query string nobody asked for yet (the service ignores the unknown parameter).
  const path = `/api/products?q=turntable&burst=${RUN}`
  // The copy is fresh until the end of the second it was read in: start at the top of a second, so
  // that a burst slowed by a busy machine (the other worker) still fits in it.
  await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000)))
  const burst = await Promise.all(Array.from({ length: 20 }, () => fetch(`${BASE}${path}`)))
  check(burst.every((r) => r.status === 200), `burst statuses: ${burst.map((r) => r.status).join(',')}`)
  const counted = await eventually('nginx to log the burst', async () => {
    const count = upstreamRequests(path)
    return count.logged === 20 ? count : undefined
  }, 5000, 100)
  check(counted.upstream === 1, `a burst of 20 identical anonymous requests made ${counted.upstream} upstream requests`)
  check(burst[0].headers.get('cache-control') === 'public, max-age=0, s-maxage=1, stale-while-revalidate=1', `cache-control: ${burst[0].headers.get('cache-control')}`)
  // The browser revalidates; nginx answers from its copy.
  const tag = burst[0].headers.get('etag') ?? ''
  const revalidated = await fetch(`${BASE}${path}`, { headers: { 'If-None-Match': tag } })
  check(revalidated.status === 304, `If-None-Match with the ETag gave ${revalidated.status}`)

  const token = await apiUser('cacher')
  const fresh = `/api/products?q=record&signed=${RUN}`
  const both: Record<string, string>[] = [{ Authorization: `Bearer ${token}` }, { Cookie: `access_token=${token}` }]
  for (const credentials of both) {
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

test('an edit and a deletion made on one replica show through nginx within 2 s, and a deleted listing is never served after', async () => {
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
  async function freshWithinTwoSeconds(what: string, since: number, fresh: () => Promise<boolean>) {
    let freshAt: number | null = null
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
    const listed = (await list.json()).items.find((item: { id: string }) => item.id === id)
    return (await one.json()).price === '75.00' && listed?.price === '75.00'
  })
  const deleted = await fetch(`${replica}${product}`, { method: 'DELETE', headers: auth })
  check(deleted.status === 204, `delete on the replica: ${deleted.status}`)
  await freshWithinTwoSeconds('the deletion', Date.now(), async () => {
    const [one, list] = await Promise.all([fetch(`${BASE}${product}`), fetch(`${BASE}${search}`)])
    const listed = (await list.json()).items.some((item: { id: string }) => item.id === id)
    return one.status === 404 && !listed
  })
})

test('the API reference at /api/docs offers the three services\' documents, each served through nginx', async ({ openPage }) => {
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
  const page = await openPage()
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
