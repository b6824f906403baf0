/** One product: details, quantity picker and "add to cart". */
import { useState } from 'react'
import { Link, useParams } from 'react-router'
import { ApiError } from '../api/client'
import { products } from '../api/endpoints'
import { ProductImage } from '../components/ProductImage'
import { ErrorNotice, Notice, Spinner } from '../components/ui'
import { formatDate } from '../lib/format'
import { MAX_LINE_QUANTITY } from '../lib/cart'
import { formatPrice } from '../lib/money'
import { useAuth } from '../state/auth'
import { useCart } from '../state/cart'
import { useAsync } from '../state/useAsync'

export function ProductPage() {
  const { id = '' } = useParams()
  const product = useAsync((signal) => products.get(id, signal), [id])
  const { cart, add } = useCart()
  const { user } = useAuth()
  const [quantity, setQuantity] = useState(1)
  const [added, setAdded] = useState<number | null>(null)

  if (product.status === 'loading' && !product.data) return <Spinner label="Loading product…" />
  if (product.status === 'error' && !product.data) {
    const notFound = product.error instanceof ApiError && (product.error.status === 404 || product.error.status === 400)
    return (
      <div className="page">
        {notFound ? (
          <>
            <h1>This product is gone</h1>
            <p>It may have been sold out and removed by its seller.</p>
            <Link to="/" className="btn btn--primary">
              Back to the shop
            </Link>
          </>
        ) : (
          <ErrorNotice error={product.error} onRetry={product.reload} title="The product could not be loaded." />
        )}
      </div>
    )
  }
  const p = product.data!
  const inCart = cart.lines.find((l) => l.product_id === p.id)?.quantity ?? 0
  const available = Math.max(0, Math.min(p.stock, MAX_LINE_QUANTITY) - inCart)
  const own = user?.id === p.seller_id
  const soldOut = p.stock <= 0

  const onAdd = () => {
    const qty = Math.max(1, Math.min(quantity, available))
    add(p, qty)
    setAdded(qty)
    setQuantity(1)
  }

  return (
    <div className="page page--wide">
      <nav aria-label="Breadcrumb" className="breadcrumb">
        <Link to="/">Shop</Link> <span aria-hidden="true">/</span>{' '}
        <Link to={`/?category=${encodeURIComponent(p.category)}`}>{p.category}</Link>
      </nav>
      <article className="product-detail">
        <ProductImage src={p.image_url} name={p.name} category={p.category} seed={p.id} />
        <div className="product-detail__info">
          <h1>{p.name}</h1>
          <p className="muted">
            Sold by <strong>{p.seller_name}</strong> · listed {formatDate(p.created_at)}
          </p>
          <p className="price price--large">{formatPrice(p.price)}</p>
          <p className={`stock${soldOut ? ' stock--out' : p.stock <= 3 ? ' stock--low' : ''}`} data-testid="product-stock">
            {soldOut ? 'Sold out' : `${p.stock} in stock`}
          </p>
          {own ? (
            <Notice>
              This is your listing. <Link to={`/sell/${p.id}/edit`}>Edit it</Link>
            </Notice>
          ) : soldOut ? null : (
            <div className="buy-box">
              <div className="field field--inline">
                <label htmlFor="quantity">Quantity</label>
                <div className="stepper">
                  <button type="button" aria-label="One less" onClick={() => setQuantity((q) => Math.max(1, q - 1))} disabled={quantity <= 1}>
                    −
                  </button>
                  <input
                    id="quantity"
                    type="number"
                    inputMode="numeric"
                    min={1}
                    max={Math.max(1, available)}
                    value={quantity}
                    onChange={(e) => setQuantity(Math.max(1, Math.min(Number.parseInt(e.target.value, 10) || 1, Math.max(1, available))))}
                  />
                  <button type="button" aria-label="One more" onClick={() => setQuantity((q) => Math.min(Math.max(1, available), q + 1))} disabled={quantity >= available}>
                    +
                  </button>
                </div>
              </div>
              <button type="button" className="btn btn--primary btn--large" onClick={onAdd} disabled={available <= 0}>
                Add to cart
              </button>
              {available <= 0 && <p className="muted small">You already have all available units in your cart.</p>}
            </div>
          )}
          {added !== null && (
            <Notice tone="success">
              Added {added} to your cart. <Link to="/cart">View cart</Link>
            </Notice>
          )}
          {p.description && (
            <section className="description">
              <h2>About this item</h2>
              {p.description.split(/\n{2,}/).map((para, i) => (
                <p key={i}>{para}</p>
              ))}
            </section>
          )}
        </div>
      </article>
    </div>
  )
}
