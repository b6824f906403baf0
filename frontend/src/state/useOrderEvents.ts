/**
 * Follows an order's live status over Server-Sent Events. On a broken connection the browser
 * reconnects by itself; if the stream is refused (an expired session), the session is refreshed
 * once and the stream reopened.
 */
import { useEffect, useRef, useState } from 'react'
import { client } from '../api/client'
import { orders } from '../api/endpoints'
import type { Order } from '../api/types'
import { parseStatusEvent } from '../lib/orderStatus'

export type StreamState = 'connecting' | 'live' | 'reconnecting' | 'closed'

export function useOrderEvents(orderId: string, enabled: boolean, onUpdate: (update: Partial<Order>) => void): StreamState {
  const [state, setState] = useState<StreamState>('connecting')
  const onUpdateRef = useRef(onUpdate)
  useEffect(() => {
    onUpdateRef.current = onUpdate
  }, [onUpdate])

  useEffect(() => {
    if (!enabled || typeof EventSource === 'undefined') return
    let source: EventSource | null = null
    let stopped = false
    let refreshed = false
    let retryTimer: number | undefined

    const handle = (event: MessageEvent) => {
      const update = parseStatusEvent(String(event.data))
      if (update) onUpdateRef.current(update)
    }

    const open = () => {
      if (stopped) return
      setState((s) => (s === 'live' ? 'reconnecting' : s))
      source = new EventSource(orders.eventsUrl(orderId))
      source.onopen = () => setState('live')
      source.onmessage = handle
      for (const name of ['status', 'order', 'order_status', 'update']) source.addEventListener(name, handle as EventListener)
      source.onerror = () => {
        if (stopped || !source) return
        if (source.readyState === EventSource.CLOSED) {
          // The server refused the stream (not a dropped connection): maybe the session expired.
          source.close()
          setState('reconnecting')
          const retry = async () => {
            if (!refreshed) {
              refreshed = true
              await client.refresh()
            }
            retryTimer = window.setTimeout(open, 3000)
          }
          void retry()
        } else {
          setState('reconnecting')
        }
      }
    }
    open()
    return () => {
      stopped = true
      window.clearTimeout(retryTimer)
      source?.close()
    }
  }, [orderId, enabled])

  return enabled ? state : 'closed'
}

export function useNow(active: boolean, intervalMs = 1000): number {
  const [now, setNow] = useState(() => Date.now())
  useEffect(() => {
    if (!active) return
    const timer = window.setInterval(() => setNow(Date.now()), intervalMs)
    return () => window.clearInterval(timer)
  }, [active, intervalMs])
  return now
}
