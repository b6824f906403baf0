// @vitest-environment happy-dom
import { act } from 'react'
import { afterEach, describe, expect, it } from 'vitest'
import { addToCart, CART_STORAGE_KEY, emptyCart, type CartProduct } from '../lib/cart'
import { renderHook } from '../testing/renderHook'
import { CartProvider, useCart } from './cart'

const record: CartProduct = { id: 'p1', name: 'Kind of Blue', price: '24.99', stock: 5, seller_name: 'demo', image_url: null, category: 'Records' }
const stored = () => JSON.parse(window.localStorage.getItem(CART_STORAGE_KEY) ?? 'null')

afterEach(() => window.localStorage.clear())

describe('the cart provider', () => {
  it('starts from the cart stored by an earlier visit', () => {
    window.localStorage.setItem(CART_STORAGE_KEY, JSON.stringify(addToCart(emptyCart(), record, 2)))
    const { result } = renderHook(() => useCart(), undefined, { wrapper: CartProvider })
    expect(result.current.cart.lines).toHaveLength(1)
    expect(result.current.cart.lines[0]).toMatchObject({ product_id: 'p1', quantity: 2 })
  })

  it('saves every change, and clear empties it', () => {
    const { result } = renderHook(() => useCart(), undefined, { wrapper: CartProvider })
    act(() => result.current.add(record, 1))
    act(() => result.current.setQuantity('p1', 3))
    expect(result.current.cart.lines[0].quantity).toBe(3)
    expect(stored().lines[0]).toMatchObject({ product_id: 'p1', quantity: 3 })
    act(() => result.current.remove('p1'))
    expect(result.current.cart.lines).toEqual([])
    act(() => result.current.add(record, 1))
    act(() => result.current.clear())
    expect(result.current.cart.lines).toEqual([])
    expect(stored().lines).toEqual([])
  })

  it('follows a change made in another tab', () => {
    const { result } = renderHook(() => useCart(), undefined, { wrapper: CartProvider })
    const other = JSON.stringify(addToCart(emptyCart(), record, 4))
    act(() => {
      window.dispatchEvent(new StorageEvent('storage', { key: 'something-else', newValue: other }))
    })
    expect(result.current.cart.lines).toEqual([])
    act(() => {
      window.dispatchEvent(new StorageEvent('storage', { key: CART_STORAGE_KEY, newValue: other }))
    })
    expect(result.current.cart.lines[0]).toMatchObject({ product_id: 'p1', quantity: 4 })
  })

  it('is only available inside the provider', () => {
    expect(() => renderHook(() => useCart())).toThrow('useCart outside CartProvider')
  })
})
