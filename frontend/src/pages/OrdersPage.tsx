/** The buyer's orders, newest first, with status badges and a status filter. */
import { Link, useSearchParams } from 'react-router'
import { orders } from '../api/endpoints'
import type { OrderStatus } from '../api/types'
import { EmptyState, ErrorNotice, Pagination, Spinner, StatusBadge } from '../components/ui'
import { formatDate } from '../lib/format'
import { pageCount } from '../lib/catalogQuery'
import { formatPrice } from '../lib/money'
import { isStatus, ORDER_STATUSES, shortOrderId, STATUS_LABEL } from '../lib/orderStatus'
import { useAsync } from '../state/useAsync'

const PER_PAGE = 20

export function OrdersPage() {
  const [params, setParams] = useSearchParams()
  const rawStatus = params.get('status')
  const status: OrderStatus | '' = isStatus(rawStatus) ? rawStatus : ''
  const page = Math.max(1, Number.parseInt(params.get('page') ?? '1', 10) || 1)
  const list = useAsync((signal) => orders.list({ status, page, per_page: PER_PAGE }, signal), [status, page])

  const filterTo = (next: OrderStatus | '') => {
    const p = new URLSearchParams()
    if (next) p.set('status', next)
    setParams(p)
  }
  const hrefFor = (n: number) => {
    const p = new URLSearchParams()
    if (status) p.set('status', status)
    if (n > 1) p.set('page', String(n))
    return `/orders?${p.toString()}`
  }

  return (
    <div className="page page--wide">
      <h1>Your orders</h1>
      <div className="chips" role="group" aria-label="Filter by status">
        {(['', ...ORDER_STATUSES] as const).map((s) => (
          <button key={s || 'all'} type="button" className={`chip${s === status ? ' is-active' : ''}`} aria-pressed={s === status} onClick={() => filterTo(s)}>
            {s ? STATUS_LABEL[s] : 'All'}
          </button>
        ))}
      </div>
      {list.status === 'error' && <ErrorNotice error={list.error} onRetry={list.reload} title="Your orders could not be loaded." />}
      {list.status === 'loading' && !list.data && <Spinner label="Loading your orders…" />}
      {list.data && list.data.items.length === 0 && (
        <EmptyState title={status ? `No ${STATUS_LABEL[status].toLowerCase()} orders` : 'No orders yet'}>
          <Link to="/" className="btn btn--primary">
            Start shopping
          </Link>
        </EmptyState>
      )}
      {list.data && list.data.items.length > 0 && (
        <>
          <ul className="order-list" aria-busy={list.status === 'loading'}>
            {list.data.items.map((o) => (
              <li key={o.id} className="card order-row" data-testid="order-row">
                <Link to={`/orders/${o.id}`} className="order-row__link">
                  <span className="order-row__id mono">#{shortOrderId(o.id)}</span>
                  <span className="order-row__items">
                    {o.items
                      .slice(0, 2)
                      .map((i) => `${i.quantity} × ${i.name}`)
                      .join(', ')}
                    {o.items.length > 2 ? ` and ${o.items.length - 2} more` : ''}
                  </span>
                  <span className="small muted order-row__date">{formatDate(o.created_at)}</span>
                  <span className="price order-row__total">{formatPrice(o.total)}</span>
                  <StatusBadge status={o.status} />
                </Link>
              </li>
            ))}
          </ul>
          <Pagination page={page} pages={pageCount(list.data.total, list.data.per_page || PER_PAGE)} hrefFor={hrefFor} label="Order pages" />
        </>
      )}
    </div>
  )
}
