import { describe, expect, it } from 'vitest'
import { addToCart, emptyCart } from './cart'
import { attemptFor, cartFingerprint, CHECKOUT_STORAGE_KEY, loadAttempt, newKey } from './checkout'

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

  it('a key is made from the random bytes given, with the version and variant bits set', () => {
    expect(newKey((b) => b.fill(0))).toBe('00000000-0000-4000-8000-000000000000')
    expect(newKey((b) => b.fill(0xff))).toBe('ffffffff-ffff-4fff-bfff-ffffffffffff')
  })

  it('the fingerprint of an empty cart is empty, and of a cart its lines with quantities', () => {
    expect(cartFingerprint(emptyCart())).toBe('')
    expect(cartFingerprint(addToCart(emptyCart(), product, 3))).toBe('p1:3')
  })
})

describe('the stored attempt', () => {
  const storage = (value: string | null) => ({ getItem: (key: string) => (key === CHECKOUT_STORAGE_KEY ? value : null) })

  it('comes back as it was stored', () => {
    const attempt = { fingerprint: 'p1:1', key: 'k' }
    expect(loadAttempt(storage(JSON.stringify(attempt)))).toEqual(attempt)
  })

  it('is nothing when missing, malformed or of the wrong shape', () => {
    expect(loadAttempt(storage(null))).toBeNull()
    expect(loadAttempt(storage('{not json'))).toBeNull()
    expect(loadAttempt(storage(JSON.stringify({ fingerprint: 'p1:1' })))).toBeNull()
    expect(loadAttempt(storage(JSON.stringify({ fingerprint: 'p1:1', key: 7 })))).toBeNull()
  })
})
