/** Who is signed in, from GET /api/auth/me; the session itself lives in HttpOnly cookies. */
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react'
import { ApiError, client } from '../api/client'
import { auth } from '../api/endpoints'
import type { User } from '../api/types'

type AuthStatus = 'loading' | 'signed-in' | 'signed-out'

interface AuthValue {
  user: User | null
  status: AuthStatus
  /** Set when the session was lost mid-use (refresh failed), so the login page can say so. */
  sessionLost: boolean
  signIn(user: User): void
  logout(): Promise<void>
  /** Signs out on every browser and device, this one included. */
  logoutEverywhere(): Promise<void>
}

const AuthContext = createContext<AuthValue | null>(null)

export function AuthProvider({ children }: { children: ReactNode }) {
  const [user, setUser] = useState<User | null>(null)
  const [status, setStatus] = useState<AuthStatus>('loading')
  const [sessionLost, setSessionLost] = useState(false)

  useEffect(() => {
    client.setOnSessionLost(() => {
      setUser((current) => {
        if (current) setSessionLost(true)
        return null
      })
      setStatus('signed-out')
    })
    let cancelled = false
    auth
      .me()
      .then((me) => {
        if (cancelled) return
        setUser(me)
        setStatus('signed-in')
      })
      .catch((err: unknown) => {
        if (cancelled) return
        if (!(err instanceof ApiError) || err.status !== 401) console.warn('could not load the session', err)
        setUser(null)
        setStatus('signed-out')
      })
    return () => {
      cancelled = true
      client.setOnSessionLost(undefined)
    }
  }, [])

  const signIn = useCallback((next: User) => {
    setUser(next)
    setStatus('signed-in')
    setSessionLost(false)
  }, [])

  const logout = useCallback(async () => {
    try {
      await auth.logout()
    } finally {
      setUser(null)
      setStatus('signed-out')
      setSessionLost(false)
    }
  }, [])

  const logoutEverywhere = useCallback(async () => {
    await auth.logoutEverywhere()
    setUser(null)
    setStatus('signed-out')
    setSessionLost(false)
  }, [])

  const value = useMemo(
    () => ({ user, status, sessionLost, signIn, logout, logoutEverywhere }),
    [user, status, sessionLost, signIn, logout, logoutEverywhere],
  )
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>
}

export function useAuth(): AuthValue {
  const value = useContext(AuthContext)
  if (!value) throw new Error('useAuth outside AuthProvider')
  return value
}
