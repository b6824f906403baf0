import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { admin, auth, orders, products } from './endpoints'

type Sent = { method: string; url: string; headers: Record<string, string>; body: unknown }
let sent: Sent[]
let answer: () => Response

beforeEach(() => {
  sent = []
  answer = () => new Response(JSON.stringify({ ok: true }), { status: 200, headers: { 'Content-Type': 'application/json' } })
  vi.stubGlobal('fetch', async (input: RequestInfo | URL, init: RequestInit = {}) => {
    sent.push({
      method: init.method ?? 'GET',
      url: String(input),
      headers: init.headers as Record<string, string>,
      body: typeof init.body === 'string' ? JSON.parse(init.body) : undefined,
    })
    return answer()
  })
})

afterEach(() => vi.unstubAllGlobals())

describe('the endpoints', () => {
  it('sign in and sign up with the bodies the auth service expects, and hand back the user', async () => {
    const user = { id: 'u', username: 'demo' }
    answer = () => new Response(JSON.stringify({ user, access_token: 't' }), { status: 200 })
    expect(await auth.login('demo@demo.com', 'pw')).toEqual(user)
    expect(await auth.demoLogin()).toEqual(user)
    await auth.signup('demo', 'demo@demo.com', 'pw')
    expect(sent.map((s) => `${s.method} ${s.url}`)).toEqual(['POST /api/auth/login', 'POST /api/auth/demo-login', 'POST /api/auth/signup'])
    expect(sent[0].body).toEqual({ email: 'demo@demo.com', password: 'pw' })
    expect(sent[2].body).toEqual({ username: 'demo', email: 'demo@demo.com', password: 'pw' })
  })

  it('list the catalog with its query, leaving empty filters out, and escape ids in paths', async () => {
    await products.list({ q: 'blue note', category: undefined, page: 2, per_page: 24 })
    await products.get('a/b')
    await products.mine(3)
    expect(sent.map((s) => s.url)).toEqual(['/api/products?q=blue+note&page=2&per_page=24', '/api/products/a%2Fb', '/api/products/mine?page=3&per_page=50'])
  })

  it('edit a listing with the version it was loaded at, and delete it', async () => {
    await products.update('p1', 7, { price: '12.00' })
    answer = () => new Response(null, { status: 204 })
    expect(await products.remove('p1')).toBeUndefined()
    expect(sent[0]).toMatchObject({ method: 'PATCH', url: '/api/products/p1', body: { price: '12.00' } })
    expect(sent[0].headers['If-Match']).toBe('"7"')
    expect(sent[1]).toMatchObject({ method: 'DELETE', url: '/api/products/p1' })
  })

  it('place an order with its Idempotency-Key, pay and cancel it, and name its event stream', async () => {
    await orders.place([{ product_id: 'p1', quantity: 2 }], 'key-1')
    await orders.pay('o1', { card_number: '4242424242424242', expiry: '12/30', cvc: '123' })
    await orders.cancel('o1')
    await orders.list({ status: 'PAID', page: 1 })
    expect(sent[0]).toMatchObject({ method: 'POST', url: '/api/orders', body: { items: [{ product_id: 'p1', quantity: 2 }] } })
    expect(sent[0].headers['Idempotency-Key']).toBe('key-1')
    expect(sent[1]).toMatchObject({ method: 'POST', url: '/api/orders/o1/pay', body: { card_number: '4242424242424242' } })
    expect(sent[2]).toMatchObject({ method: 'POST', url: '/api/orders/o1/cancel' })
    expect(sent[3].url).toBe('/api/orders?status=PAID&page=1')
    expect(orders.eventsUrl('o 1')).toBe('/api/orders/o%201/events')
  })

  it('reach the admin API of orders-service', async () => {
    await admin.streams()
    await admin.deadLetters()
    await admin.replay('1-0')
    expect(sent.map((s) => `${s.method} ${s.url}`)).toEqual(['GET /api/admin/streams', 'GET /api/admin/dead-letters', 'POST /api/admin/dead-letters/1-0/replay'])
  })
})
