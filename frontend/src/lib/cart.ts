/**
 * The cart: pure functions over a list of lines, and its localStorage form. A line keeps a
 * snapshot of what the buyer saw; the order's prices always come from the service.
 */
import { toCents } from './money'

export interface CartLine {
  product_id: string
  name: string
  price: string
  quantity: number
  seller_name: string
  /** Stock when last seen, to cap the quantity picker. */
  stock: number
  image_url: string | null
  category: string
}

export interface Cart {
  lines: CartLine[]
}

export const CART_STORAGE_KEY = 'marketplace.cart.v1'
export const MAX_LINE_QUANTITY = 1000
export const MAX_LINES = 50

export const emptyCart = (): Cart => ({ lines: [] })

function clampQuantity(quantity: number, stock: number): number {
  const cap = Math.min(MAX_LINE_QUANTITY, Math.max(0, stock))
  if (!Number.isFinite(quantity)) return 0
  return Math.max(0, Math.min(Math.floor(quantity), cap))
}

export interface CartProduct {
  id: string
  name: string
  price: string
  stock: number
  seller_name: string
  image_url: string | null
  category: string
}

/** Adds `quantity` of a product (merging with an existing line), never beyond its stock. */
export function addToCart(cart: Cart, product: CartProduct, quantity: number): Cart {
  const existing = cart.lines.find((l) => l.product_id === product.id)
  if (!existing && cart.lines.length >= MAX_LINES) return cart
  const wanted = (existing?.quantity ?? 0) + quantity
  const line: CartLine = {
    product_id: product.id,
    name: product.name,
    price: product.price,
    seller_name: product.seller_name,
    stock: product.stock,
    image_url: product.image_url,
    category: product.category,
    quantity: clampQuantity(wanted, product.stock),
  }
  if (line.quantity === 0) return cart
  const lines = existing
    ? cart.lines.map((l) => (l.product_id === product.id ? line : l))
    : [...cart.lines, line]
  return { lines }
}

/** Sets a line's quantity; zero or less removes the line. */
export function setQuantity(cart: Cart, productId: string, quantity: number): Cart {
  if (quantity <= 0) return removeFromCart(cart, productId)
  return {
    lines: cart.lines.map((l) =>
      l.product_id === productId ? { ...l, quantity: Math.max(1, clampQuantity(quantity, l.stock)) } : l,
    ),
  }
}

export function removeFromCart(cart: Cart, productId: string): Cart {
  return { lines: cart.lines.filter((l) => l.product_id !== productId) }
}

export function cartCount(cart: Cart): number {
  return cart.lines.reduce((n, l) => n + l.quantity, 0)
}

export function cartTotalCents(cart: Cart): number {
  return cart.lines.reduce((sum, l) => sum + toCents(l.price) * l.quantity, 0)
}

/** The order request body for the whole cart. */
export function orderItems(cart: Cart): { product_id: string; quantity: number }[] {
  return cart.lines.map((l) => ({ product_id: l.product_id, quantity: l.quantity }))
}

function isLine(value: unknown): value is CartLine {
  const l = value as CartLine
  return (
    !!l &&
    typeof l.product_id === 'string' &&
    typeof l.name === 'string' &&
    typeof l.price === 'string' &&
    !Number.isNaN(toCents(l.price)) &&
    Number.isInteger(l.quantity) &&
    l.quantity > 0 &&
    typeof l.stock === 'number'
  )
}

/** Reads the cart back; anything corrupt or from another version gives an empty cart. */
export function parseCart(raw: string | null): Cart {
  if (!raw) return emptyCart()
  try {
    const parsed = JSON.parse(raw) as { lines?: unknown }
    if (!parsed || !Array.isArray(parsed.lines)) return emptyCart()
    const seen = new Set<string>()
    const lines: CartLine[] = []
    for (const candidate of parsed.lines) {
      if (!isLine(candidate) || seen.has(candidate.product_id)) continue
      seen.add(candidate.product_id)
      lines.push({
        ...candidate,
        seller_name: typeof candidate.seller_name === 'string' ? candidate.seller_name : '',
        image_url: typeof candidate.image_url === 'string' ? candidate.image_url : null,
        category: typeof candidate.category === 'string' ? candidate.category : '',
        quantity: Math.min(candidate.quantity, MAX_LINE_QUANTITY),
      })
    }
    return { lines: lines.slice(0, MAX_LINES) }
  } catch {
    return emptyCart()
  }
}

export function loadCart(storage: Pick<Storage, 'getItem'>): Cart {
  try {
    return parseCart(storage.getItem(CART_STORAGE_KEY))
  } catch {
    return emptyCart()
  }
}

export function saveCart(storage: Pick<Storage, 'setItem'>, cart: Cart): void {
  try {
    storage.setItem(CART_STORAGE_KEY, JSON.stringify(cart))
  } catch {
    // Storage full or disabled (private mode): the cart still works for this page's life.
  }
}
