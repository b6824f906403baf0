/** The cart, and checkout: one order for the whole cart under one Idempotency-Key per attempt. */
import { useRef, useState } from 'react'
import { Link, useNavigate } from 'react-router'
import { ApiError } from '../api/client'
import { orders } from '../api/endpoints'
import { ProductImage } from '../components/ProductImage'
import { EmptyState, ErrorNotice } from '../components/ui'
import { cartCount, cartTotalCents, orderItems } from '../lib/cart'
import { attemptFor, CHECKOUT_STORAGE_KEY, loadAttempt, type CheckoutAttempt } from '../lib/checkout'
import { formatPrice, toCents } from '../lib/money'
import { useAuth } from '../state/auth'
import { useCart } from '../state/cart'

function sessionStore(): Storage | null {
  try {
    return window.sessionStorage
  } catch {
    return null
  }
}

export function CartPage() {
  const { cart, setQuantity, remove, clear } = useCart()
  const { user } = useAuth()
  const navigate = useNavigate()
  const [placing, setPlacing] = useState(false)
  const [error, setError] = useState<unknown>(null)
  const attempt = useRef<CheckoutAttempt | null>(sessionStore() ? loadAttempt(sessionStore()!) : null)
  const inFlight = useRef(false)

  if (cart.lines.length === 0) {
    return (
      <div className="page">
        <h1>Your cart</h1>
        <EmptyState title="Your cart is empty">
          <p>Browse the shop and add something you like.</p>
          <Link to="/" className="btn btn--primary">
            Go shopping
          </Link>
        </EmptyState>
      </div>
    )
  }

  const checkout = async () => {
    if (inFlight.current) return
    inFlight.current = true
    setPlacing(true)
    setError(null)
    attempt.current = attemptFor(cart, attempt.current)
    sessionStore()?.setItem(CHECKOUT_STORAGE_KEY, JSON.stringify(attempt.current))
    try {
      const order = await orders.place(orderItems(cart), attempt.current.key)
      attempt.current = null
      sessionStore()?.removeItem(CHECKOUT_STORAGE_KEY)
      clear()
      navigate(`/orders/${order.id}`)
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) {
        navigate(`/login?next=${encodeURIComponent('/cart')}`)
        return
      }
      setError(err)
    } finally {
      inFlight.current = false
      setPlacing(false)
    }
  }

  const total = cartTotalCents(cart)
  const count = cartCount(cart)

  return (
    <div className="page page--wide">
      <h1>Your cart</h1>
      <div className="cart">
        <ul className="cart__lines" aria-label="Items in your cart">
          {cart.lines.map((line) => {
            const max = Math.max(1, Math.min(line.stock, 1000))
            return (
              <li key={line.product_id} className="cart-line" data-testid="cart-line">
                <div className="cart-line__thumb">
                  <ProductImage src={line.image_url} name={line.name} category={line.category} seed={line.product_id} />
                </div>
                <div className="cart-line__info">
                  <Link to={`/products/${line.product_id}`} className="cart-line__name">
                    {line.name}
                  </Link>
                  <span className="muted small">by {line.seller_name || 'a seller'}</span>
                  <span className="small">{formatPrice(line.price)} each</span>
                </div>
                <div className="cart-line__qty">
                  <label htmlFor={`qty-${line.product_id}`} className="sr-only">
                    Quantity of {line.name}
                  </label>
                  <select id={`qty-${line.product_id}`} value={line.quantity} onChange={(e) => setQuantity(line.product_id, Number(e.target.value))}>
                    {Array.from({ length: Math.min(max, 20) }, (_, i) => i + 1)
                      .concat(line.quantity > 20 ? [line.quantity] : [])
                      .map((n) => (
                        <option key={n} value={n}>
                          {n}
                        </option>
                      ))}
                  </select>
                </div>
                <div className="cart-line__total price">{formatPrice(toCents(line.price) * line.quantity, 'cents')}</div>
                <button type="button" className="btn btn--link cart-line__remove" onClick={() => remove(line.product_id)} aria-label={`Remove ${line.name} from the cart`}>
                  Remove
                </button>
              </li>
            )
          })}
        </ul>
        <aside className="cart__summary card" aria-label="Order summary">
          <h2>Summary</h2>
          <dl>
            <div>
              <dt>Items</dt>
              <dd>{count}</dd>
            </div>
            <div className="cart__total">
              <dt>Total</dt>
              <dd data-testid="cart-total">{formatPrice(total, 'cents')}</dd>
            </div>
          </dl>
          <p className="muted small">Prices are confirmed by the sellers when you place the order. Your items are then held for you while you pay.</p>
          {error !== null && <ErrorNotice error={error} title="Your order was not placed." />}
          {user ? (
            <button type="button" className="btn btn--primary btn--large btn--block" onClick={checkout} disabled={placing} aria-busy={placing}>
              {placing ? 'Placing your order…' : 'Place order'}
            </button>
          ) : (
            <Link to={`/login?next=${encodeURIComponent('/cart')}`} className="btn btn--primary btn--large btn--block">
              Log in to check out
            </Link>
          )}
        </aside>
      </div>
    </div>
  )
}
