/** What an order's status means to a buyer, and how live status events update the page. */
import type { Order, OrderStatus } from '../api/types'

export const ORDER_STATUSES: OrderStatus[] = ['PENDING', 'CONFIRMED', 'PAID', 'REJECTED', 'CANCELLED', 'EXPIRED']

export const STATUS_LABEL: Record<OrderStatus, string> = {
  PENDING: 'Pending',
  CONFIRMED: 'Confirmed',
  PAID: 'Paid',
  REJECTED: 'Rejected',
  CANCELLED: 'Cancelled',
  EXPIRED: 'Expired',
}

export const STATUS_HINT: Record<OrderStatus, string> = {
  PENDING: 'We are reserving your items with the sellers…',
  CONFIRMED: 'Your items are reserved. Pay before the reservation runs out.',
  PAID: 'Payment received. The sellers have been told to ship your order.',
  REJECTED: 'This order could not be placed.',
  CANCELLED: 'This order was cancelled. Nothing was charged.',
  EXPIRED: 'The reservation ran out before payment, so the items were released. Nothing was charged.',
}

const FINAL: OrderStatus[] = ['PAID', 'REJECTED', 'CANCELLED', 'EXPIRED']

export function isFinal(status: OrderStatus): boolean {
  return FINAL.includes(status)
}

export function isStatus(value: unknown): value is OrderStatus {
  return typeof value === 'string' && (ORDER_STATUSES as string[]).includes(value)
}

const REASONS: Record<string, string> = {
  out_of_stock: 'One of the items sold out before we could reserve it.',
  price_changed: 'The price of an item changed after you added it to your cart. Check the new price and order again.',
  product_unavailable: 'One of the items is no longer for sale.',
  own_product: 'You cannot buy your own listing.',
  timeout: 'The sellers’ stock could not be confirmed in time, so nothing was reserved.',
}

/** A rejection reason code in plain words. */
export function reasonText(reason: string | null | undefined): string | null {
  if (!reason) return null
  if (REASONS[reason]) return REASONS[reason]
  const words = reason.replace(/[_-]+/g, ' ').trim()
  return words ? words.charAt(0).toUpperCase() + words.slice(1) + '.' : null
}

/** Time left until `expiresAt`: "14:05", "1:02:03", or "0:00" once passed; null without a deadline. */
export function countdown(expiresAt: string | null | undefined, now: number): string | null {
  if (!expiresAt) return null
  const end = Date.parse(expiresAt)
  if (Number.isNaN(end)) return null
  const total = Math.max(0, Math.floor((end - now) / 1000))
  const h = Math.floor(total / 3600)
  const m = Math.floor((total % 3600) / 60)
  const s = total % 60
  const ss = String(s).padStart(2, '0')
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`
}

/**
 * Reads one message of the order's event stream. The stream sends the order or a status change as
 * JSON; a bare status word is accepted too. Returns null for anything else (keep-alives).
 */
export function parseStatusEvent(data: string): Partial<Order> | null {
  const trimmed = data.trim()
  if (isStatus(trimmed)) return { status: trimmed }
  try {
    const body = JSON.parse(trimmed) as Record<string, unknown>
    const inner = (body && typeof body.order === 'object' && body.order ? body.order : body) as Record<string, unknown>
    if (!isStatus(inner.status)) return null
    const update: Partial<Order> = { status: inner.status }
    if ('reason' in inner) update.reason = (inner.reason as string | null) ?? null
    if ('expires_at' in inner) update.expires_at = (inner.expires_at as string | null) ?? null
    if (Array.isArray(inner.items)) update.items = inner.items as Order['items']
    if (typeof inner.total === 'string') update.total = inner.total
    if (typeof inner.updated_at === 'string') update.updated_at = inner.updated_at
    return update
  } catch {
    return null
  }
}

/**
 * Applies a live update. A final status never goes back (a late, reordered message cannot turn
 * PAID into CONFIRMED again).
 */
export function applyStatusEvent(order: Order, update: Partial<Order>): Order {
  if (!update.status) return order
  if (isFinal(order.status) && update.status !== order.status) return order
  if (order.status === 'CONFIRMED' && update.status === 'PENDING') return order
  return { ...order, ...update }
}

/** A short, readable order number. UUID v7 ids start with a timestamp, so the end is what differs. */
export function shortOrderId(id: string): string {
  return id.replace(/-/g, '').slice(-8).toUpperCase()
}
