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
    let failures = 0
    let retryTimer: number | undefined

    const handle = (event: MessageEvent) => {
      const update = parseStatusEvent(String(event.data))
      if (update) onUpdateRef.current(update)
    }

    const open = () => {
      if (stopped) return
      setState((s) => (s === 'live' ? 'reconnecting' : s))
      source = new EventSource(orders.eventsUrl(orderId))
      source.onopen = () => {
        failures = 0
        refreshed = false
        setState('live')
      }
      source.onmessage = handle
      // orders-service names its events `status`; unnamed messages are read the same way.
      source.addEventListener('status', handle as EventListener)
      source.onerror = () => {
        if (stopped || !source) return
        if (source.readyState === EventSource.CLOSED) {
          // The server refused the stream (not a dropped connection): maybe the session expired.
          source.close()
          setState('reconnecting')
          const retry = async () => {
            if (!refreshed) {
              refreshed = true
              if (!(await client.refresh())) {
                // The session is gone: an ordinary request now takes the app to the login page.
                orders.get(orderId).catch(() => {})
                return
              }
            }
            failures += 1
            retryTimer = window.setTimeout(open, Math.min(30_000, 1000 * 2 ** failures))
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
