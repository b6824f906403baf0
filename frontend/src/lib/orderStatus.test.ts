import { describe, expect, it } from 'vitest'
import type { Order } from '../api/types'
import { applyStatusEvent, countdown, isFinal, isStatus, parseStatusEvent, reasonText, shortOrderId, STATUS_HINT, STATUS_LABEL } from './orderStatus'

describe('order status', () => {
  const order: Order = {
    id: 'o1',
    user_id: 'u',
    status: 'PENDING',
    items: [],
    total: '10.00',
    reason: null,
    expires_at: null,
    created_at: '2026-01-01T00:00:00Z',
    updated_at: '2026-01-01T00:00:00Z',
  }

  it('reads a full order, a status change, or a bare status word from the stream', () => {
    expect(parseStatusEvent(JSON.stringify({ ...order, status: 'CONFIRMED', expires_at: '2026-01-01T00:15:00Z' }))).toMatchObject({ status: 'CONFIRMED', expires_at: '2026-01-01T00:15:00Z' })
    expect(parseStatusEvent(JSON.stringify({ order_id: 'o1', status: 'REJECTED', reason: 'out_of_stock' }))).toEqual({ status: 'REJECTED', reason: 'out_of_stock' })
    expect(parseStatusEvent(JSON.stringify({ order: { status: 'PAID' } }))).toEqual({ status: 'PAID' })
    expect(parseStatusEvent('CONFIRMED')).toEqual({ status: 'CONFIRMED' })
    expect(parseStatusEvent('ping')).toBeNull()
    expect(parseStatusEvent(JSON.stringify({ status: 'SHIPPED' }))).toBeNull()
  })

  it('moves forward and never back out of a final state', () => {
    const confirmed = applyStatusEvent(order, { status: 'CONFIRMED', expires_at: 'x' })
    expect(confirmed.status).toBe('CONFIRMED')
    expect(applyStatusEvent(confirmed, { status: 'PENDING' }).status).toBe('CONFIRMED')
    const paid = applyStatusEvent(confirmed, { status: 'PAID' })
    expect(applyStatusEvent(paid, { status: 'CONFIRMED' }).status).toBe('PAID')
    expect(applyStatusEvent(paid, { status: 'EXPIRED' }).status).toBe('PAID')
  })

  it('says rejection reasons in plain words', () => {
    expect(reasonText('out_of_stock')).toMatch(/sold out/)
    expect(reasonText('own_product')).toMatch(/your own listing/)
    expect(reasonText('timeout')).toMatch(/in time/)
    expect(reasonText('warehouse_on_fire')).toBe('Warehouse on fire.')
    expect(reasonText(null)).toBeNull()
  })

  it('short order numbers come from the random end of a UUID v7, not its timestamp', () => {
    expect(shortOrderId('019a1ff2-9c3e-7d41-8f00-3b2c1d0e9a7f')).toBe('1D0E9A7F')
    expect(shortOrderId('019a1ff2-9c3e-7d41-8f00-aaaaaaaaaaaa')).not.toBe(shortOrderId('019a1ff2-9c3e-7d41-8f00-bbbbbbbbbbbb'))
  })

  it('counts the reservation window down and stops at zero', () => {
    const now = Date.parse('2026-01-01T00:00:00Z')
    expect(countdown('2026-01-01T00:14:05Z', now)).toBe('14:05')
    expect(countdown('2026-01-01T00:14:05.900Z', now)).toBe('14:05')
    expect(countdown('2026-01-01T01:02:03Z', now)).toBe('1:02:03')
    expect(countdown('2025-12-31T23:59:00Z', now)).toBe('0:00')
    expect(countdown(null, now)).toBeNull()
  })

  it('carries the items, total and update time a full order sends', () => {
    const items = [{ product_id: 'p', product_name: 'A', quantity: 1, unit_price: '10.00' }]
    expect(parseStatusEvent(JSON.stringify({ status: 'PAID', items, total: '10.00', updated_at: '2026-01-01T00:01:00Z' }))).toEqual({
      status: 'PAID',
      items,
      total: '10.00',
      updated_at: '2026-01-01T00:01:00Z',
    })
    expect(parseStatusEvent(JSON.stringify({ status: 'CONFIRMED', expires_at: null }))).toEqual({ status: 'CONFIRMED', expires_at: null })
  })

  it('an update without a status changes nothing, and a repeated final status is applied', () => {
    expect(applyStatusEvent(order, { total: '99.00' })).toBe(order)
    const paid = { ...order, status: 'PAID' as const }
    expect(applyStatusEvent(paid, { status: 'PAID', updated_at: 'later' }).updated_at).toBe('later')
  })

  it('knows which statuses are final, and every status has a label and a hint', () => {
    expect(['PAID', 'REJECTED', 'CANCELLED', 'EXPIRED'].every((s) => isFinal(s as Order['status']))).toBe(true)
    expect(isFinal('PENDING')).toBe(false)
    expect(isFinal('CONFIRMED')).toBe(false)
    expect(isStatus('CONFIRMED')).toBe(true)
    expect(isStatus('confirmed')).toBe(false)
    expect(isStatus(3)).toBe(false)
    expect(STATUS_LABEL.EXPIRED).toBe('Expired')
    expect(STATUS_HINT.CANCELLED).toMatch(/Nothing was charged/)
  })

  it('has no countdown for a deadline it cannot read, and no reason text for an empty code', () => {
    expect(countdown('soon', 0)).toBeNull()
    expect(reasonText('__')).toBeNull()
    expect(reasonText('price_changed')).toMatch(/price/)
  })
})
