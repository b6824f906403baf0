import { describe, expect, it } from 'vitest'
import type { Order, Product } from '../api/types'
import { addToCart, emptyCart } from './cart'
import { pageLink, pageWindow, parseCatalogParams, priceRangeError, sortsFor, toApiQuery, toCatalogParams } from './catalogQuery'
import { attemptFor, cartFingerprint, newKey } from './checkout'
import { safeNext } from './navigation'
import { isStaleEdit, localErrors, toCreateInput, toPatch, valuesFrom } from './listingForm'
import { centsToDecimal, formatPrice, toCents } from './money'
import { applyStatusEvent, countdown, parseStatusEvent, reasonText, shortOrderId } from './orderStatus'

const product = { id: 'p1', name: 'A', price: '10.00', stock: 5, seller_name: 's', image_url: null, category: 'c' }

describe('checkout attempts', () => {
  it('the same cart keeps its idempotency key, so a double click orders once', () => {
    const cart = addToCart(emptyCart(), product, 1)
    let n = 0
    const make = () => `key-${++n}`
    const first = attemptFor(cart, null, make)
    const second = attemptFor(cart, first, make)
    expect(second.key).toBe(first.key)
    expect(n).toBe(1)
  })

  it('a changed cart is a new attempt with a new key', () => {
    let n = 0
    const make = () => `key-${++n}`
    const first = attemptFor(addToCart(emptyCart(), product, 1), null, make)
    const second = attemptFor(addToCart(emptyCart(), product, 2), first, make)
    expect(second.key).not.toBe(first.key)
  })

  it('the fingerprint ignores line order', () => {
    const a = addToCart(addToCart(emptyCart(), product, 1), { ...product, id: 'p2' }, 1)
    const b = addToCart(addToCart(emptyCart(), { ...product, id: 'p2' }, 1), product, 1)
    expect(cartFingerprint(a)).toBe(cartFingerprint(b))
  })

  it('keys are version 4 UUIDs and differ', () => {
    const a = newKey()
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(newKey()).not.toBe(a)
  })
})

describe('order status', () => {
  const order: Order = {
    id: 'o1',
    user_id: 'u',
    status: 'PENDING',
    items: [],
    total: '10.00',
    reason: null,
    expires_at: null,
    created_at: '2026-01-01T00:00:00Z',
    updated_at: '2026-01-01T00:00:00Z',
  }

  it('reads a full order, a status change, or a bare status word from the stream', () => {
    expect(parseStatusEvent(JSON.stringify({ ...order, status: 'CONFIRMED', expires_at: '2026-01-01T00:15:00Z' }))).toMatchObject({ status: 'CONFIRMED', expires_at: '2026-01-01T00:15:00Z' })
    expect(parseStatusEvent(JSON.stringify({ order_id: 'o1', status: 'REJECTED', reason: 'out_of_stock' }))).toEqual({ status: 'REJECTED', reason: 'out_of_stock' })
    expect(parseStatusEvent(JSON.stringify({ order: { status: 'PAID' } }))).toEqual({ status: 'PAID' })
    expect(parseStatusEvent('CONFIRMED')).toEqual({ status: 'CONFIRMED' })
    expect(parseStatusEvent('ping')).toBeNull()
    expect(parseStatusEvent(JSON.stringify({ status: 'SHIPPED' }))).toBeNull()
  })

  it('moves forward and never back out of a final state', () => {
    const confirmed = applyStatusEvent(order, { status: 'CONFIRMED', expires_at: 'x' })
    expect(confirmed.status).toBe('CONFIRMED')
    expect(applyStatusEvent(confirmed, { status: 'PENDING' }).status).toBe('CONFIRMED')
    const paid = applyStatusEvent(confirmed, { status: 'PAID' })
    expect(applyStatusEvent(paid, { status: 'CONFIRMED' }).status).toBe('PAID')
    expect(applyStatusEvent(paid, { status: 'EXPIRED' }).status).toBe('PAID')
  })

  it('says rejection reasons in plain words', () => {
    expect(reasonText('out_of_stock')).toMatch(/sold out/)
    expect(reasonText('own_product')).toMatch(/your own listing/)
    expect(reasonText('timeout')).toMatch(/in time/)
    expect(reasonText('warehouse_on_fire')).toBe('Warehouse on fire.')
    expect(reasonText(null)).toBeNull()
  })

  it('short order numbers come from the random end of a UUID v7, not its timestamp', () => {
    expect(shortOrderId('019a1ff2-9c3e-7d41-8f00-3b2c1d0e9a7f')).toBe('1D0E9A7F')
    expect(shortOrderId('019a1ff2-9c3e-7d41-8f00-aaaaaaaaaaaa')).not.toBe(shortOrderId('019a1ff2-9c3e-7d41-8f00-bbbbbbbbbbbb'))
  })

  it('counts the reservation window down and stops at zero', () => {
    const now = Date.parse('2026-01-01T00:00:00Z')
    expect(countdown('2026-01-01T00:14:05Z', now)).toBe('14:05')
    expect(countdown('2026-01-01T00:14:05.900Z', now)).toBe('14:05')
    expect(countdown('2026-01-01T01:02:03Z', now)).toBe('1:02:03')
    expect(countdown('2025-12-31T23:59:00Z', now)).toBe('0:00')
    expect(countdown(null, now)).toBeNull()
  })
})

describe('catalog query', () => {
  it('reads the URL, ignoring nonsense', () => {
    const s = parseCatalogParams(new URLSearchParams('q=jazz&category=Records&min_price=abc&max_price=30&sort=bogus&page=-2'))
    expect(s).toEqual({ q: 'jazz', category: 'Records', minPrice: '', maxPrice: '30', sort: 'relevance', page: 1, after: '', before: '' })
    expect(parseCatalogParams(new URLSearchParams('sort=relevance&after=nope')).sort).toBe('newest')
    expect(parseCatalogParams(new URLSearchParams('after=nope')).after).toBe('')
  })

  it('writes only what differs from the defaults and round-trips', () => {
    const s = { q: 'blue', category: '', minPrice: '5', maxPrice: '', sort: 'price_asc', page: 3, after: '', before: '' }
    expect(toCatalogParams(s).toString()).toBe('q=blue&min_price=5&sort=price_asc&page=3')
    expect(parseCatalogParams(toCatalogParams(s))).toEqual(s)
    expect(toApiQuery(s)).toMatchObject({ q: 'blue', min_price: '5', sort: 'price_asc', page: 3, category: undefined })
    const best = { ...s, sort: 'relevance' }
    expect(toCatalogParams(best).toString()).toBe('q=blue&min_price=5&page=3')
    expect(sortsFor('').map((o) => o.value)).not.toContain('relevance')
    expect(sortsFor('blue')[0].value).toBe('relevance')
  })

  it('goes to the next and previous page from the listings shown, to others by number', () => {
    const id = (n: number) => `0193a1d0-5eed-7000-8000-00000000000${n}`
    const s = { q: '', category: 'Records', minPrice: '', maxPrice: '', sort: 'newest', page: 3, after: id(1), before: '' }
    const shown = { next_after: id(2), prev_before: id(3) }
    expect(toCatalogParams(pageLink(s, 4, shown)).toString()).toBe(`category=Records&page=4&after=${id(2)}`)
    expect(toCatalogParams(pageLink(s, 2, shown)).toString()).toBe(`category=Records&page=2&before=${id(3)}`)
    expect(toCatalogParams(pageLink(s, 1, shown)).toString()).toBe('category=Records')
    expect(toCatalogParams(pageLink(s, 9, shown)).toString()).toBe('category=Records&page=9')
    expect(toApiQuery(pageLink(s, 4, shown))).toMatchObject({ page: 4, after: id(2), before: undefined })
  })

  it('rejects an upside-down or malformed price range', () => {
    expect(priceRangeError('50', '10')).toMatch(/above/)
    expect(priceRangeError('1,5', '')).toMatch(/amounts/)
    expect(priceRangeError('10', '50')).toBeNull()
  })

  it('shows a window of pages with gaps', () => {
    expect(pageWindow(5, 12)).toEqual([1, null, 4, 5, 6, null, 12])
    expect(pageWindow(1, 3)).toEqual([1, 2, 3])
  })
})

describe('money', () => {
  it('parses decimal strings to cents and formats them', () => {
    expect(toCents('24.99')).toBe(2499)
    expect(toCents('5')).toBe(500)
    expect(toCents('0.5')).toBe(50)
    expect(toCents('x')).toBeNaN()
    expect(centsToDecimal(2499)).toBe('24.99')
    expect(formatPrice('1234.5')).toBe('$1,234.50')
    expect(formatPrice(50, 'cents')).toBe('$0.50')
  })
})

describe('listing form', () => {
  const p: Product = {
    id: 'p',
    seller_id: 's',
    seller_name: 'n',
    name: 'Old',
    description: '',
    category: 'Books',
    price: '10.00',
    stock: 3,
    image_url: null,
    version: 4,
    created_at: '',
    updated_at: '',
  }

  it('an edit sends only the changed fields', () => {
    const original = valuesFrom(p)
    expect(toPatch(original, { ...original, price: '12.00', stock: '2' })).toEqual({ price: '12.00', stock: 2 })
    expect(toPatch(original, original)).toEqual({})
  })

  it('a new listing leaves empty optional fields out', () => {
    expect(toCreateInput({ name: ' A ', description: '', category: 'Books', price: '1', stock: '2', image_url: '' })).toEqual({ name: 'A', category: 'Books', price: '1', stock: 2 })
  })

  it('stock must be a whole number before sending', () => {
    expect(localErrors({ ...valuesFrom(p), stock: '1.5' }).stock).toBeDefined()
    expect(localErrors(valuesFrom(p))).toEqual({})
  })

  it('412 and 409 both mean a stale edit', () => {
    expect(isStaleEdit(412)).toBe(true)
    expect(isStaleEdit(409)).toBe(true)
    expect(isStaleEdit(422)).toBe(false)
  })
})

describe('after login', () => {
  it('follows only same-site paths', () => {
    expect(safeNext('/orders/1')).toBe('/orders/1')
    expect(safeNext('https://evil.example')).toBe('/')
    expect(safeNext('//evil.example')).toBe('/')
    expect(safeNext('/login')).toBe('/')
    expect(safeNext(null)).toBe('/')
  })
})
