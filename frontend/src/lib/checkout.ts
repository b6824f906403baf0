/**
 * One Idempotency-Key per checkout attempt: the same cart keeps its key across double clicks and
 * retries after a network error; a changed cart is a new attempt with a new key.
 */
import type { Cart } from './cart'

export interface CheckoutAttempt {
  fingerprint: string
  key: string
}

export function cartFingerprint(cart: Cart): string {
  return cart.lines
    .map((l) => `${l.product_id}:${l.quantity}`)
    .sort()
    .join(',')
}

/** A random UUID v4, also outside secure contexts where crypto.randomUUID is missing. */
export function newKey(random: (bytes: Uint8Array<ArrayBuffer>) => void = (b) => crypto.getRandomValues(b)): string {
  const b = new Uint8Array(16)
  random(b)
  b[6] = (b[6] & 0x0f) | 0x40
  b[8] = (b[8] & 0x3f) | 0x80
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

/** Keeps the previous attempt when the cart is unchanged; otherwise starts a new one. */
export function attemptFor(cart: Cart, previous: CheckoutAttempt | null, makeKey: () => string = newKey): CheckoutAttempt {
  const fingerprint = cartFingerprint(cart)
  if (previous && previous.fingerprint === fingerprint) return previous
  return { fingerprint, key: makeKey() }
}

export const CHECKOUT_STORAGE_KEY = 'marketplace.checkout.v1'

export function loadAttempt(storage: Pick<Storage, 'getItem'>): CheckoutAttempt | null {
  try {
    const parsed = JSON.parse(storage.getItem(CHECKOUT_STORAGE_KEY) ?? 'null') as CheckoutAttempt | null
    if (parsed && typeof parsed.key === 'string' && typeof parsed.fingerprint === 'string') return parsed
  } catch {
    // ignore
  }
  return null
}
