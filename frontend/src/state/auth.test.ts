// @vitest-environment happy-dom
import { act } from 'react'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { client } from '../api/client'
import type { User } from '../api/types'
import { renderHook } from '../testing/renderHook'
import { AuthProvider, useAuth } from './auth'

const demo: User = { id: 'u1', username: 'demo', email: 'demo@demo.com', role: 'user', created_at: '2026-01-01T00:00:00Z' }

/** The answers of the services, by "METHOD path"; every request is recorded. */
let answers: Record<string, () => Response>
let requests: string[]
const json = (status: number, body?: unknown) => () =>
  new Response(body === undefined ? null : JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })

beforeEach(() => {
  requests = []
  answers = {}
  vi.stubGlobal('fetch', async (input: RequestInfo | URL, init?: RequestInit) => {
    const key = `${init?.method ?? 'GET'} ${String(input)}`
    requests.push(key)
    const answer = answers[key]
    if (!answer) throw new Error(`unexpected request ${key}`)
    return answer()
  })
  vi.spyOn(console, 'warn').mockImplementation(() => {})
})

afterEach(() => {
  vi.unstubAllGlobals()
  vi.restoreAllMocks()
})

const render = () => renderHook(() => useAuth(), undefined, { wrapper: AuthProvider })
/** Lets the pending requests answer. */
const settle = () => act(async () => {})

describe('the auth provider', () => {
  it('is loading, then signed in as the user /api/auth/me names', async () => {
    answers['GET /api/auth/me'] = json(200, demo)
    const { result } = render()
    expect(result.current.status).toBe('loading')
    await settle()
    expect(result.current.status).toBe('signed-in')
    expect(result.current.user).toEqual(demo)
    expect(result.current.sessionLost).toBe(false)
  })

  it('is signed out without a session, and says nothing of a lost one', async () => {
    answers['GET /api/auth/me'] = json(401, { error: { code: 'unauthorized', message: 'no session' } })
    answers['POST /api/auth/refresh'] = json(401)
    const { result } = render()
    await settle()
    expect(result.current.status).toBe('signed-out')
    expect(result.current.user).toBeNull()
    expect(result.current.sessionLost).toBe(false)
    expect(console.warn).not.toHaveBeenCalled()
  })

  it('a session that cannot be refreshed mid-use signs out and says the session was lost', async () => {
    answers['GET /api/auth/me'] = json(200, demo)
    const { result } = render()
    await settle()
    answers['GET /api/orders'] = json(401)
    answers['POST /api/auth/refresh'] = json(401)
    await act(async () => {
      await client.request('GET', '/api/orders').catch(() => {})
    })
    expect(result.current.status).toBe('signed-out')
    expect(result.current.sessionLost).toBe(true)
    act(() => result.current.signIn(demo))
    expect(result.current).toMatchObject({ status: 'signed-in', user: demo, sessionLost: false })
  })

  it('logging out signs out even when the service cannot be reached', async () => {
    answers['GET /api/auth/me'] = json(200, demo)
    const { result } = render()
    await settle()
    answers['POST /api/auth/logout'] = () => {
      throw new TypeError('Failed to fetch')
    }
    await act(async () => {
      await result.current.logout().catch(() => {})
    })
    expect(requests).toContain('POST /api/auth/logout')
    expect(result.current.status).toBe('signed-out')
    expect(result.current.user).toBeNull()
  })

  it('signing out everywhere asks the service first and stays signed in if it refuses', async () => {
    answers['GET /api/auth/me'] = json(200, demo)
    const { result } = render()
    await settle()
    answers['POST /api/auth/logout-everywhere'] = json(500)
    await act(async () => {
      await expect(result.current.logoutEverywhere()).rejects.toThrow()
    })
    expect(result.current.status).toBe('signed-in')
    answers['POST /api/auth/logout-everywhere'] = json(204)
    await act(async () => {
      await result.current.logoutEverywhere()
    })
    expect(result.current.status).toBe('signed-out')
  })

  it('stops listening for a lost session when unmounted, and is only available inside the provider', async () => {
    answers['GET /api/auth/me'] = json(200, demo)
    const listen = vi.spyOn(client, 'setOnSessionLost')
    const { unmount } = render()
    await settle()
    expect(listen).toHaveBeenLastCalledWith(expect.any(Function))
    unmount()
    expect(listen).toHaveBeenLastCalledWith(undefined)
    expect(() => renderHook(() => useAuth())).toThrow('useAuth outside AuthProvider')
  })
})
