/** One order, live: status over SSE, the reservation countdown, demo payment and cancel. */
import { useCallback, useState, type FormEvent } from 'react'
import { Link, useParams } from 'react-router'
import { ApiError } from '../api/client'
import { orders } from '../api/endpoints'
import type { Order } from '../api/types'
import { ErrorNotice, Field, Notice, Spinner, StatusBadge } from '../components/ui'
import { formatDate } from '../lib/format'
import { formatPrice } from '../lib/money'
import { applyStatusEvent, countdown, isFinal, reasonText, shortOrderId, STATUS_HINT, STATUS_LABEL } from '../lib/orderStatus'
import { useAsync } from '../state/useAsync'
import { useNow, useOrderEvents } from '../state/useOrderEvents'

const TEST_CARDS = [
  { number: '4242 4242 4242 4242', outcome: 'approved' },
  { number: '4000 0000 0000 0002', outcome: 'declined' },
]

function nextYearExpiry(): string {
  const d = new Date()
  return `${String(d.getMonth() + 1).padStart(2, '0')}/${String((d.getFullYear() + 2) % 100).padStart(2, '0')}`
}

function PayForm({ order, onPaid }: { order: Order; onPaid: (order: Order) => void }) {
  const [card, setCard] = useState('')
  const [expiry, setExpiry] = useState('')
  const [cvc, setCvc] = useState('')
  const [paying, setPaying] = useState(false)
  const [error, setError] = useState<ApiError | Error | null>(null)

  const fields = error instanceof ApiError ? error.fields : {}

  const submit = async (event: FormEvent) => {
    event.preventDefault()
    if (paying) return
    setPaying(true)
    setError(null)
    try {
      onPaid(await orders.pay(order.id, { card_number: card, expiry, cvc }))
    } catch (err) {
      setError(err as Error)
    } finally {
      setPaying(false)
    }
  }

  const declined = error instanceof ApiError && error.code === 'payment_declined'
  return (
    <form className="pay card" onSubmit={submit} noValidate aria-labelledby="pay-heading">
      <h2 id="pay-heading">Pay {formatPrice(order.total)}</h2>
      <div className="test-cards">
        <p className="small">This is a demo shop: pay with a test card.</p>
        <ul>
          {TEST_CARDS.map((c) => (
            <li key={c.number}>
              <button
                type="button"
                className="test-card"
                onClick={() => {
                  setCard(c.number)
                  if (!expiry) setExpiry(nextYearExpiry())
                  if (!cvc) setCvc('123')
                }}
              >
                {/* The name is this text, which holds all the button shows (WCAG 2.5.3, label in name). */}
                <span className="sr-only">{`Use the test card ${c.number} (${c.outcome})`}</span>
                <code aria-hidden="true">{c.number}</code>
                <span className={`pill pill--${c.outcome}`} aria-hidden="true">
                  {c.outcome}
                </span>
                <span className="test-card__use" aria-hidden="true">
                  Use
                </span>
              </button>
            </li>
          ))}
        </ul>
      </div>
      <Field label="Card number" name="card_number" autoComplete="cc-number" inputMode="numeric" placeholder="1234 1234 1234 1234" value={card} onChange={(e) => setCard(e.target.value)} error={fields.card_number?.[0]} />
      <div className="field-row">
        <Field label="Expiry (MM/YY)" name="expiry" autoComplete="cc-exp" placeholder="MM/YY" value={expiry} onChange={(e) => setExpiry(e.target.value)} error={fields.expiry?.[0]} />
        <Field label="CVC" name="cvc" autoComplete="cc-csc" inputMode="numeric" placeholder="123" maxLength={4} value={cvc} onChange={(e) => setCvc(e.target.value)} error={fields.cvc?.[0]} />
      </div>
      {declined ? (
        <Notice tone="error">
          <strong>Card declined.</strong> Your bank did not approve this payment. Try another card.
        </Notice>
      ) : (
        error && !(error instanceof ApiError && Object.keys(error.fields).length) && <ErrorNotice error={error} title="Payment failed." />
      )}
      <button type="submit" className="btn btn--primary btn--large btn--block" disabled={paying} aria-busy={paying}>
        {paying ? 'Paying…' : `Pay ${formatPrice(order.total)}`}
      </button>
    </form>
  )
}

export function OrderPage() {
  const { id = '' } = useParams()
  const loaded = useAsync((signal) => orders.get(id, signal), [id])
  const [live, setLive] = useState<Order | null>(null)
  const [confirmCancel, setConfirmCancel] = useState(false)
  const [cancelling, setCancelling] = useState(false)
  const [actionError, setActionError] = useState<unknown>(null)

  const order = live && live.id === id ? live : loaded.data ?? null
  const status = order?.status
  const now = useNow(status === 'CONFIRMED')

  const onUpdate = useCallback(
    (update: Partial<Order>) => {
      setLive((current) => {
        const base = current && current.id === id ? current : loaded.data
        if (!base) return current
        return applyStatusEvent(base, update)
      })
      // Re-read the order for what the event does not carry (the status history).
      orders.get(id).then(
        (fresh) =>
          setLive((current) => {
            const base = current && current.id === id ? current : null
            if (!base) return fresh
            // A re-read older than what the stream already showed must not move the page back.
            return applyStatusEvent({ ...fresh, status: base.status, reason: base.reason, expires_at: base.expires_at }, fresh)
          }),
        () => {},
      )
    },
    [id, loaded.data],
  )
  const stream = useOrderEvents(id, Boolean(order) && !isFinal(status ?? 'PENDING'), onUpdate)

  if (!order) {
    if (loaded.status === 'error') {
      const missing = loaded.error instanceof ApiError && (loaded.error.status === 404 || loaded.error.status === 400)
      return (
        <div className="page">
          {missing ? (
            <>
              <h1>Order not found</h1>
              <p>
                It does not exist or it is not yours. <Link to="/orders">See your orders</Link>
              </p>
            </>
          ) : (
            <ErrorNotice error={loaded.error} onRetry={loaded.reload} title="The order could not be loaded." />
          )}
        </div>
      )
    }
    return <Spinner label="Loading your order…" />
  }

  const left = status === 'CONFIRMED' ? countdown(order.expires_at, now) : null
  const windowPassed = left === '0:00'

  const cancel = async () => {
    setCancelling(true)
    setActionError(null)
    try {
      setLive(await orders.cancel(order.id))
      setConfirmCancel(false)
    } catch (err) {
      setActionError(err)
      if (err instanceof ApiError && err.status === 409) orders.get(order.id).then(setLive, () => {})
    } finally {
      setCancelling(false)
    }
  }

  const reason = reasonText(order.reason)
  return (
    <div className="page page--wide">
      <nav aria-label="Breadcrumb" className="breadcrumb">
        <Link to="/orders">Your orders</Link> <span aria-hidden="true">/</span> <span>Order {shortOrderId(order.id)}</span>
      </nav>
      <div className="order">
        <section className="order__main">
          <div className={`status-panel status-panel--${order.status.toLowerCase()}`} aria-live="polite" data-testid="order-status-panel">
            <div className="status-panel__head">
              <h1>
                Order <span className="mono">#{shortOrderId(order.id)}</span>
              </h1>
              <StatusBadge status={order.status} />
            </div>
            <p className="status-panel__title" data-testid="order-status">
              {STATUS_LABEL[order.status]}
            </p>
            <p>{STATUS_HINT[order.status]}</p>
            {order.status === 'PENDING' && (
              <div className="progress" aria-hidden="true">
                <span />
              </div>
            )}
            {reason && (order.status === 'REJECTED' || order.status === 'CANCELLED' || order.status === 'EXPIRED') && (
              <p className="status-panel__reason" data-testid="order-reason">
                {reason}
              </p>
            )}
            {(order.status === 'REJECTED' || order.status === 'EXPIRED' || order.status === 'CANCELLED') && (
              <p className="status-panel__next">
                <Link to="/" className="btn btn--ghost btn--small">
                  Continue shopping
                </Link>
              </p>
            )}
            {left !== null && (
              <p className="countdown" data-testid="countdown">
                {windowPassed ? (
                  'The reservation window has passed.'
                ) : (
                  <>
                    Reserved for you for <strong className="mono">{left}</strong> more
                  </>
                )}
              </p>
            )}
            {!isFinal(order.status) && (
              <p className="small muted live-indicator">
                <span className={`dot dot--${stream}`} aria-hidden="true" />
                {stream === 'live' ? 'Live updates on' : stream === 'reconnecting' ? 'Reconnecting…' : 'Connecting…'}
              </p>
            )}
          </div>

          <section className="card order__items" aria-labelledby="items-heading">
            <h2 id="items-heading">Items</h2>
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Item</th>
                  <th scope="col" className="num">
                    Price
                  </th>
                  <th scope="col" className="num">
                    Qty
                  </th>
                  <th scope="col" className="num">
                    Total
                  </th>
                </tr>
              </thead>
              <tbody>
                {order.items.map((item) => (
                  <tr key={item.product_id}>
                    <td>
                      <Link to={`/products/${item.product_id}`}>{item.name}</Link>
                    </td>
                    <td className="num">{formatPrice(item.unit_price)}</td>
                    <td className="num">{item.quantity}</td>
                    <td className="num">{formatPrice(item.line_total)}</td>
                  </tr>
                ))}
              </tbody>
              <tfoot>
                <tr>
                  <th scope="row" colSpan={3}>
                    Total
                  </th>
                  <td className="num price" data-testid="order-total">
                    {formatPrice(order.total)}
                  </td>
                </tr>
              </tfoot>
            </table>
            <p className="small muted">Placed {formatDate(order.created_at)}</p>
          </section>
        </section>

        <aside className="order__side">
          {order.status === 'CONFIRMED' && !windowPassed && <PayForm order={order} onPaid={setLive} />}
          {order.status === 'PAID' && (
            <Notice tone="success">
              <strong>Thank you!</strong> Your payment of {formatPrice(order.total)} went through.
            </Notice>
          )}
          {(order.status === 'PENDING' || order.status === 'CONFIRMED') && (
            <div className="card cancel-box">
              {confirmCancel ? (
                <>
                  <p>Cancel this order? Reserved items go back on sale.</p>
                  <div className="button-row">
                    <button type="button" className="btn btn--danger" onClick={cancel} disabled={cancelling}>
                      {cancelling ? 'Cancelling…' : 'Yes, cancel order'}
                    </button>
                    <button type="button" className="btn btn--ghost" onClick={() => setConfirmCancel(false)} disabled={cancelling}>
                      Keep order
                    </button>
                  </div>
                </>
              ) : (
                <button type="button" className="btn btn--ghost btn--block" onClick={() => setConfirmCancel(true)}>
                  Cancel order
                </button>
              )}
            </div>
          )}
          {actionError !== null && <ErrorNotice error={actionError} />}
          {order.history && order.history.length > 0 && (
            <section className="card history" aria-labelledby="history-heading">
              <h2 id="history-heading">History</h2>
              <ol>
                {order.history.map((h, i) => (
                  <li key={i}>
                    <StatusBadge status={h.status} />
                    <span className="small muted">{formatDate(h.at)}</span>
                  </li>
                ))}
              </ol>
            </section>
          )}
        </aside>
      </div>
    </div>
  )
}
