/** The cart for the whole app, mirrored to localStorage and kept in step across tabs. */
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react'
import {
  addToCart,
  CART_STORAGE_KEY,
  emptyCart,
  loadCart,
  parseCart,
  removeFromCart,
  saveCart,
  setQuantity,
  type Cart,
  type CartProduct,
} from '../lib/cart'

interface CartValue {
  cart: Cart
  add(product: CartProduct, quantity: number): void
  setQuantity(productId: string, quantity: number): void
  remove(productId: string): void
  clear(): void
}

const CartContext = createContext<CartValue | null>(null)

export function CartProvider({ children }: { children: ReactNode }) {
  const [cart, setCart] = useState<Cart>(() => loadCart(window.localStorage))

  useEffect(() => {
    const onStorage = (event: StorageEvent) => {
      if (event.key === CART_STORAGE_KEY) setCart(parseCart(event.newValue))
    }
    window.addEventListener('storage', onStorage)
    return () => window.removeEventListener('storage', onStorage)
  }, [])

  const update = useCallback((change: (cart: Cart) => Cart) => {
    setCart((current) => {
      const next = change(current)
      saveCart(window.localStorage, next)
      return next
    })
  }, [])

  const value = useMemo<CartValue>(
    () => ({
      cart,
      add: (product, quantity) => update((c) => addToCart(c, product, quantity)),
      setQuantity: (id, quantity) => update((c) => setQuantity(c, id, quantity)),
      remove: (id) => update((c) => removeFromCart(c, id)),
      clear: () => update(() => emptyCart()),
    }),
    [cart, update],
  )
  return <CartContext.Provider value={value}>{children}</CartContext.Provider>
}

export function useCart(): CartValue {
  const value = useContext(CartContext)
  if (!value) throw new Error('useCart outside CartProvider')
  return value
}
