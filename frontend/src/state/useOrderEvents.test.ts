// @vitest-environment happy-dom
import { act } from 'react'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { client } from '../api/client'
import { orders } from '../api/endpoints'
import type { Order } from '../api/types'
import { renderHook } from '../testing/renderHook'
import { useNow, useOrderEvents } from './useOrderEvents'

/** The browser's EventSource, driven by the test: open it, send it events, break it. */
class FakeEventSource {
  static readonly CONNECTING = 0
  static readonly OPEN = 1
  static readonly CLOSED = 2
  static made: FakeEventSource[] = []

  readonly url: string
  readyState = FakeEventSource.CONNECTING
  closed = false
  onopen: (() => void) | null = null
  onmessage: ((event: MessageEvent) => void) | null = null
  onerror: (() => void) | null = null
  private listeners = new Map<string, ((event: MessageEvent) => void)[]>()

  constructor(url: string) {
    this.url = url
    FakeEventSource.made.push(this)
  }

  addEventListener(type: string, listener: (event: MessageEvent) => void) {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener])
  }

  close() {
    this.closed = true
    this.readyState = FakeEventSource.CLOSED
  }

  open() {
    this.readyState = FakeEventSource.OPEN
    act(() => this.onopen?.())
  }

  /** An event named `type` ("message" for an unnamed one). */
  send(type: string, data: string) {
    const event = new MessageEvent(type, { data })
    act(() => {
      if (type === 'message') this.onmessage?.(event)
      for (const listener of this.listeners.get(type) ?? []) listener(event)
    })
  }

  /** A dropped connection the browser retries (CONNECTING), or a refused one (CLOSED). */
  fail(readyState: number) {
    this.readyState = readyState
    act(() => this.onerror?.())
  }
}

const latest = () => FakeEventSource.made[FakeEventSource.made.length - 1]

beforeEach(() => {
  FakeEventSource.made = []
  vi.stubGlobal('EventSource', FakeEventSource)
  vi.useFakeTimers()
})

afterEach(() => {
  vi.useRealTimers()
  vi.unstubAllGlobals()
  vi.restoreAllMocks()
})

describe('useOrderEvents', () => {
  it('opens nothing while disabled and says closed', () => {
    const { result } = renderHook(() => useOrderEvents('o1', false, () => {}))
    expect(result.current).toBe('closed')
    expect(FakeEventSource.made).toHaveLength(0)
  })

  it("follows the order's stream: connecting, then live", () => {
    const { result } = renderHook(() => useOrderEvents('o 1', true, () => {}))
    expect(FakeEventSource.made).toHaveLength(1)
    expect(latest().url).toBe('/api/orders/o%201/events')
    expect(result.current).toBe('connecting')
    latest().open()
    expect(result.current).toBe('live')
  })

  it('hands named status events and unnamed messages to the page, and skips keep-alives', () => {
    const updates: Partial<Order>[] = []
    renderHook(() => useOrderEvents('o1', true, (u) => updates.push(u)))
    latest().open()
    latest().send('status', JSON.stringify({ order_id: 'o1', status: 'CONFIRMED', expires_at: '2026-01-01T00:15:00Z' }))
    latest().send('message', 'PAID')
    latest().send('message', 'keep-alive')
    expect(updates).toEqual([{ status: 'CONFIRMED', expires_at: '2026-01-01T00:15:00Z' }, { status: 'PAID' }])
  })

  it('gives updates to the latest callback after a re-render', () => {
    const first: Partial<Order>[] = []
    const second: Partial<Order>[] = []
    const { rerender } = renderHook((sink: Partial<Order>[]) => useOrderEvents('o1', true, (u) => sink.push(u)), first)
    rerender(second)
    latest().send('status', 'PAID')
    expect(first).toEqual([])
    expect(second).toEqual([{ status: 'PAID' }])
    expect(FakeEventSource.made).toHaveLength(1)
  })

  it('a dropped connection shows reconnecting and leaves the retry to the browser', () => {
    const refresh = vi.spyOn(client, 'refresh')
    const { result } = renderHook(() => useOrderEvents('o1', true, () => {}))
    latest().open()
    latest().fail(FakeEventSource.CONNECTING)
    expect(result.current).toBe('reconnecting')
    vi.advanceTimersByTime(60_000)
    expect(FakeEventSource.made).toHaveLength(1)
    expect(refresh).not.toHaveBeenCalled()
    latest().open()
    expect(result.current).toBe('live')
  })

  it('a refused stream refreshes the session once and reopens after a back-off', async () => {
    const refresh = vi.spyOn(client, 'refresh').mockResolvedValue(true)
    const { result } = renderHook(() => useOrderEvents('o1', true, () => {}))
    const first = latest()
    first.fail(FakeEventSource.CLOSED)
    expect(first.closed).toBe(true)
    expect(result.current).toBe('reconnecting')
    await act(async () => {})
    expect(refresh).toHaveBeenCalledTimes(1)
    await act(async () => vi.advanceTimersByTime(1999))
    expect(FakeEventSource.made).toHaveLength(1)
    await act(async () => vi.advanceTimersByTime(1))
    expect(FakeEventSource.made).toHaveLength(2)
    // Refused again without ever opening: no second refresh, a longer wait (4 s).
    latest().fail(FakeEventSource.CLOSED)
    await act(async () => vi.advanceTimersByTime(3999))
    expect(FakeEventSource.made).toHaveLength(2)
    await act(async () => vi.advanceTimersByTime(1))
    expect(FakeEventSource.made).toHaveLength(3)
    expect(refresh).toHaveBeenCalledTimes(1)
    latest().open()
    expect(result.current).toBe('live')
  })

  it('when the session cannot be refreshed, an ordinary request takes over and the stream stays shut', async () => {
    vi.spyOn(client, 'refresh').mockResolvedValue(false)
    const get = vi.spyOn(orders, 'get').mockRejectedValue(new Error('401'))
    renderHook(() => useOrderEvents('o1', true, () => {}))
    latest().fail(FakeEventSource.CLOSED)
    await act(async () => {})
    expect(get).toHaveBeenCalledWith('o1')
    await act(async () => vi.advanceTimersByTime(60_000))
    expect(FakeEventSource.made).toHaveLength(1)
  })

  it('unmounting closes the stream and cancels a pending reopen', async () => {
    vi.spyOn(client, 'refresh').mockResolvedValue(true)
    const { unmount } = renderHook(() => useOrderEvents('o1', true, () => {}))
    latest().fail(FakeEventSource.CLOSED)
    await act(async () => {})
    unmount()
    await act(async () => vi.advanceTimersByTime(60_000))
    expect(FakeEventSource.made).toHaveLength(1)

    renderHook(() => useOrderEvents('o2', true, () => {})).unmount()
    expect(latest().closed).toBe(true)
  })
})

describe('useNow', () => {
  it('ticks while active and stands still otherwise', () => {
    vi.setSystemTime(Date.parse('2026-01-01T00:00:00Z'))
    const { result, rerender } = renderHook((active: boolean) => useNow(active, 1000), true)
    const start = result.current
    act(() => vi.advanceTimersByTime(3000))
    expect(result.current).toBe(start + 3000)
    rerender(false)
    act(() => vi.advanceTimersByTime(5000))
    expect(result.current).toBe(start + 3000)
  })
})
