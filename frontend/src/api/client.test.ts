import { describe, expect, it } from 'vitest'
import { ApiError, buildUrl, createClient, parseErrorBody } from './client'

type Call = { url: string; init: RequestInit }

/** A scripted fetch: answers in order and records every request it was asked to send. */
function scriptedFetch(answers: Array<(call: Call) => Response | Promise<Response>>) {
  const calls: Call[] = []
  const fetcher = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const call = { url: String(input), init: init ?? {} }
    calls.push(call)
    const answer = answers.shift()
    if (!answer) throw new Error(`unexpected request ${call.init.method} ${call.url}`)
    return answer(call)
  }) as typeof fetch
  return { fetcher, calls }
}

const json = (status: number, body: unknown) => () =>
  new Response(body === undefined ? null : JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })

describe('parseErrorBody', () => {
  it('reads the code, message and per-field messages of a 422', () => {
    const err = parseErrorBody(
      422,
      JSON.stringify({ error: { code: 'validation_failed', message: 'Invalid input', fields: { price: ['must be more than 0'], name: ['is required', 'too short'] } } }),
    )
    expect(err).toBeInstanceOf(ApiError)
    expect(err.status).toBe(422)
    expect(err.code).toBe('validation_failed')
    expect(err.message).toBe('Invalid input')
    expect(err.fieldError('price')).toBe('must be more than 0')
    expect(err.fields.name).toEqual(['is required', 'too short'])
  })

  it('accepts a single string per field and ignores junk in fields', () => {
    const err = parseErrorBody(422, JSON.stringify({ error: { code: 'x', message: 'm', fields: { a: 'bad', b: 3, c: [1, 'ok'] } } }))
    expect(err.fields).toEqual({ a: ['bad'], c: ['ok'] })
  })

  it('an HTML error page from the proxy still gives a readable message', () => {
    const err = parseErrorBody(502, '<html><body>Bad Gateway</body></html>')
    expect(err.code).toBe('http_502')
    expect(err.message).toMatch(/went wrong on our side/)
    expect(err.fields).toEqual({})
  })

  it('an empty body gets the message for its status', () => {
    expect(parseErrorBody(409, '').message).toMatch(/conflicts/)
    expect(parseErrorBody(429, '').message).toMatch(/Too many/)
  })
})

describe('buildUrl', () => {
  it('leaves out empty parameters and encodes the rest', () => {
    expect(buildUrl('/api/products', { q: 'blue note', category: '', page: 2, min_price: undefined })).toBe('/api/products?q=blue+note&page=2')
    expect(buildUrl('/api/products', {})).toBe('/api/products')
  })
})

describe('createClient', () => {
  it('sends JSON with the session cookies and parses the answer', async () => {
    const { fetcher, calls } = scriptedFetch([json(201, { id: 'o1' })])
    const client = createClient({ fetch: fetcher })
    const body = await client.request<{ id: string }>('POST', '/api/orders', { body: { items: [] }, headers: { 'Idempotency-Key': 'k1' } })
    expect(body).toEqual({ id: 'o1' })
    expect(calls[0].init.credentials).toBe('same-origin')
    expect(calls[0].init.body).toBe('{"items":[]}')
    expect((calls[0].init.headers as Record<string, string>)['Content-Type']).toBe('application/json')
    expect((calls[0].init.headers as Record<string, string>)['Idempotency-Key']).toBe('k1')
  })

  it('a 204 resolves to undefined', async () => {
    const { fetcher } = scriptedFetch([() => new Response(null, { status: 204 })])
    await expect(createClient({ fetch: fetcher }).request('DELETE', '/api/products/1')).resolves.toBeUndefined()
  })

  it('on a 401 refreshes once and retries the request', async () => {
    const { fetcher, calls } = scriptedFetch([json(401, { error: { code: 'unauthorized', message: 'expired' } }), json(200, {}), json(200, { ok: true })])
    let lost = 0
    const client = createClient({ fetch: fetcher, onSessionLost: () => lost++ })
    await expect(client.request('GET', '/api/orders')).resolves.toEqual({ ok: true })
    expect(calls.map((c) => `${c.init.method} ${c.url}`)).toEqual(['GET /api/orders', 'POST /api/auth/refresh', 'GET /api/orders'])
    expect(lost).toBe(0)
  })

  it('when the refresh fails it gives up, reports the lost session and throws the 401', async () => {
    const { fetcher, calls } = scriptedFetch([json(401, { error: { code: 'unauthorized', message: 'Sign in' } }), json(401, { error: { code: 'unauthorized', message: 'no' } })])
    let lost = 0
    const client = createClient({ fetch: fetcher, onSessionLost: () => lost++ })
    const err = await client.request('GET', '/api/orders').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect((err as ApiError).status).toBe(401)
    expect(calls).toHaveLength(2)
    expect(lost).toBe(1)
  })

  it('a request still refused after a successful refresh is not retried again', async () => {
    const { fetcher, calls } = scriptedFetch([json(401, {}), json(200, {}), json(401, {})])
    let lost = 0
    const client = createClient({ fetch: fetcher, onSessionLost: () => lost++ })
    await expect(client.request('GET', '/api/orders')).rejects.toMatchObject({ status: 401 })
    expect(calls).toHaveLength(3)
    expect(lost).toBe(1)
  })

  it('concurrent 401s share one refresh', async () => {
    let release: () => void = () => {}
    const gate = new Promise<void>((r) => (release = r))
    const { fetcher, calls } = scriptedFetch([
      json(401, {}),
      json(401, {}),
      async () => {
        await gate
        return json(200, {})()
      },
      json(200, { n: 1 }),
      json(200, { n: 2 }),
    ])
    const client = createClient({ fetch: fetcher })
    const both = Promise.all([client.request('GET', '/api/orders'), client.request('GET', '/api/products/mine')])
    await new Promise((r) => setTimeout(r, 0))
    release()
    await both
    expect(calls.filter((c) => c.url === '/api/auth/refresh')).toHaveLength(1)
  })

  it('a wrong password is not "refreshed": login 401s go straight to the caller', async () => {
    const { fetcher, calls } = scriptedFetch([json(401, { error: { code: 'invalid_credentials', message: 'Wrong email or password.' } })])
    const client = createClient({ fetch: fetcher })
    await expect(client.request('POST', '/api/auth/login', { body: {} })).rejects.toMatchObject({ code: 'invalid_credentials', message: 'Wrong email or password.' })
    expect(calls).toHaveLength(1)
  })

  it('a network failure becomes a readable ApiError', async () => {
    const fetcher = (async () => {
      throw new TypeError('Failed to fetch')
    }) as typeof fetch
    await expect(createClient({ fetch: fetcher }).request('GET', '/api/products')).rejects.toMatchObject({ status: 0, code: 'network_error' })
  })

  it('passes the error body of a failure through', async () => {
    const { fetcher } = scriptedFetch([json(402, { error: { code: 'payment_declined', message: 'Card declined' } })])
    await expect(createClient({ fetch: fetcher }).request('POST', '/api/orders/1/pay', { body: {} })).rejects.toMatchObject({ status: 402, code: 'payment_declined' })
  })
})
