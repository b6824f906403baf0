import { describe, expect, it } from 'vitest'
import {
  addToCart,
  CART_STORAGE_KEY,
  cartCount,
  cartTotalCents,
  emptyCart,
  loadCart,
  MAX_LINE_QUANTITY,
  orderItems,
  parseCart,
  removeFromCart,
  saveCart,
  setQuantity,
  type CartProduct,
} from './cart'

const record: CartProduct = { id: 'p1', name: 'Kind of Blue', price: '24.99', stock: 5, seller_name: 'demo', image_url: null, category: 'Records' }
const book: CartProduct = { id: 'p2', name: 'Dune', price: '9.50', stock: 2, seller_name: 'demo2', image_url: null, category: 'Books' }

class MemoryStorage {
  data = new Map<string, string>()
  getItem(key: string) {
    return this.data.get(key) ?? null
  }
  setItem(key: string, value: string) {
    this.data.set(key, value)
  }
}

describe('cart', () => {
  it('adding the same product twice merges into one line', () => {
    const cart = addToCart(addToCart(emptyCart(), record, 1), record, 2)
    expect(cart.lines).toHaveLength(1)
    expect(cart.lines[0].quantity).toBe(3)
  })

  it('never holds more than the stock last seen', () => {
    const cart = addToCart(addToCart(emptyCart(), book, 1), book, 5)
    expect(cart.lines[0].quantity).toBe(2)
  })

  it('a sold out product is not added', () => {
    expect(addToCart(emptyCart(), { ...record, stock: 0 }, 1).lines).toHaveLength(0)
  })

  it('totals are exact in cents, with no floating point drift', () => {
    let cart = addToCart(emptyCart(), { ...record, price: '0.10', stock: 100 }, 3)
    cart = addToCart(cart, { ...book, price: '0.20' }, 1)
    expect(cartTotalCents(cart)).toBe(50)
    expect(cartCount(cart)).toBe(4)
  })

  it('setting a quantity to zero removes the line, and quantities are capped', () => {
    let cart = addToCart(addToCart(emptyCart(), record, 1), book, 1)
    cart = setQuantity(cart, 'p1', 99)
    expect(cart.lines.find((l) => l.product_id === 'p1')?.quantity).toBe(5)
    cart = setQuantity(cart, 'p2', 0)
    expect(cart.lines.map((l) => l.product_id)).toEqual(['p1'])
    expect(removeFromCart(cart, 'p1').lines).toHaveLength(0)
  })

  it('becomes the order request body for the whole cart', () => {
    const cart = addToCart(addToCart(emptyCart(), record, 2), book, 1)
    expect(orderItems(cart)).toEqual([
      { product_id: 'p1', quantity: 2 },
      { product_id: 'p2', quantity: 1 },
    ])
  })

  it('survives a round trip through storage', () => {
    const storage = new MemoryStorage()
    const cart = addToCart(addToCart(emptyCart(), record, 2), book, 1)
    saveCart(storage, cart)
    expect(loadCart(storage)).toEqual(cart)
  })

  it('corrupt or foreign storage gives an empty cart instead of a crash', () => {
    expect(parseCart('{not json')).toEqual(emptyCart())
    expect(parseCart('[1,2,3]')).toEqual(emptyCart())
    expect(parseCart(JSON.stringify({ lines: [{ product_id: 'x', quantity: -1 }] }))).toEqual(emptyCart())
    const storage = new MemoryStorage()
    storage.setItem(CART_STORAGE_KEY, JSON.stringify({ lines: [{ product_id: 'p', name: 'n', price: 'abc', quantity: 1, stock: 1 }] }))
    expect(loadCart(storage).lines).toHaveLength(0)
  })

  it('drops duplicate lines and caps absurd quantities when reading storage', () => {
    const line = { product_id: 'p', name: 'n', price: '1.00', quantity: 5000, stock: 9999, seller_name: 's', image_url: null, category: 'c' }
    const cart = parseCart(JSON.stringify({ lines: [line, { ...line, quantity: 1 }] }))
    expect(cart.lines).toHaveLength(1)
    expect(cart.lines[0].quantity).toBe(MAX_LINE_QUANTITY)
  })

  it('a storage that throws (private mode) does not break the cart', () => {
    const broken = {
      getItem: () => {
        throw new Error('denied')
      },
      setItem: () => {
        throw new Error('quota')
      },
    }
    expect(loadCart(broken)).toEqual(emptyCart())
    expect(() => saveCart(broken, addToCart(emptyCart(), record, 1))).not.toThrow()
  })
})
