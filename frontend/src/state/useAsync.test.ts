// @vitest-environment happy-dom
import { act } from 'react'
import { describe, expect, it } from 'vitest'
import { renderHook } from '../testing/renderHook'
import { useAsync } from './useAsync'

/** A loader whose calls the test answers one by one. */
function controlledLoader<T>() {
  const calls: { signal: AbortSignal; resolve: (value: T) => void; reject: (error: Error) => void }[] = []
  const load = (signal: AbortSignal) =>
    new Promise<T>((resolve, reject) => {
      calls.push({ signal, resolve, reject })
    })
  return { calls, load }
}

describe('useAsync', () => {
  it('is loading until the data arrives, then ready with it', async () => {
    const loader = controlledLoader<string>()
    const { result } = renderHook(() => useAsync(loader.load, []))
    expect(result.current.status).toBe('loading')
    expect(loader.calls).toHaveLength(1)
    await act(async () => loader.calls[0].resolve('hello'))
    expect(result.current.status).toBe('ready')
    expect(result.current.data).toBe('hello')
  })

  it('a failed reload shows the error and keeps the data it had', async () => {
    const loader = controlledLoader<string>()
    const { result } = renderHook(() => useAsync(loader.load, []))
    await act(async () => loader.calls[0].resolve('first'))
    act(() => result.current.reload())
    expect(result.current.status).toBe('loading')
    expect(result.current.data).toBe('first')
    await act(async () => loader.calls[1].reject(new Error('the service is down')))
    expect(result.current.status).toBe('error')
    expect(result.current.error?.message).toBe('the service is down')
    expect(result.current.data).toBe('first')
  })

  it('new deps abort the request in flight, and its late answer is ignored', async () => {
    const loader = controlledLoader<string>()
    const { result, rerender } = renderHook((page: number) => useAsync(loader.load, [page]), 1)
    rerender(2)
    expect(loader.calls).toHaveLength(2)
    expect(loader.calls[0].signal.aborted).toBe(true)
    expect(loader.calls[1].signal.aborted).toBe(false)
    await act(async () => loader.calls[0].resolve('page 1'))
    expect(result.current.status).toBe('loading')
    await act(async () => loader.calls[1].resolve('page 2'))
    expect(result.current.data).toBe('page 2')
    // Same deps again: no new request.
    rerender(2)
    expect(loader.calls).toHaveLength(2)
  })

  it('reload runs the latest loader it was given', async () => {
    const seen: string[] = []
    const { result, rerender } = renderHook(
      (name: string) =>
        useAsync(async () => {
          seen.push(name)
          return name
        }, []),
      'first',
    )
    await act(async () => {})
    rerender('second')
    expect(seen).toEqual(['first'])
    await act(async () => result.current.reload())
    expect(seen).toEqual(['first', 'second'])
    expect(result.current.data).toBe('second')
  })

  it('set replaces the data without a request', async () => {
    const loader = controlledLoader<string>()
    const { result } = renderHook(() => useAsync(loader.load, []))
    await act(async () => loader.calls[0].resolve('loaded'))
    act(() => result.current.set('edited'))
    expect(result.current).toMatchObject({ status: 'ready', data: 'edited' })
    expect(loader.calls).toHaveLength(1)
  })

  it('unmounting aborts the request in flight', () => {
    const loader = controlledLoader<string>()
    const { unmount } = renderHook(() => useAsync(loader.load, []))
    unmount()
    expect(loader.calls[0].signal.aborted).toBe(true)
  })
})
