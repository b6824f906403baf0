/** Log in, sign up and "try the demo". The session is set as HttpOnly cookies by auth-service. */
import { useState, type FormEvent } from 'react'
import { Link, Navigate, useNavigate, useSearchParams } from 'react-router'
import { ApiError } from '../api/client'
import { auth } from '../api/endpoints'
import type { User } from '../api/types'
import { ErrorNotice, Field, Notice } from '../components/ui'
import { safeNext } from '../lib/navigation'
import { useAuth } from '../state/auth'

function DemoButton({ onUser }: { onUser: (u: User) => void }) {
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(null)
  const go = async () => {
    setBusy(true)
    setError(null)
    try {
      onUser(await auth.demoLogin())
    } catch (err) {
      setError(err instanceof ApiError && err.status === 404 ? new Error('The demo account is switched off on this shop.') : err)
    } finally {
      setBusy(false)
    }
  }
  return (
    <div className="demo">
      <button type="button" className="btn btn--secondary btn--block" onClick={go} disabled={busy}>
        {busy ? 'Signing in…' : 'Try the demo'}
      </button>
      <p className="small muted">Look around as the demo seller, no sign-up needed.</p>
      {error !== null && <ErrorNotice error={error} />}
    </div>
  )
}

export function LoginPage() {
  const { user, signIn, sessionLost } = useAuth()
  const [params] = useSearchParams()
  const navigate = useNavigate()
  const next = safeNext(params.get('next'))
  const [email, setEmail] = useState('')
  const [password, setPassword] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(null)

  if (user && !busy) return <Navigate to={next} replace />

  const done = (u: User) => {
    signIn(u)
    navigate(next, { replace: true })
  }

  const submit = async (event: FormEvent) => {
    event.preventDefault()
    setBusy(true)
    setError(null)
    try {
      done(await auth.login(email.trim(), password))
    } catch (err) {
      setError(err)
      setBusy(false)
    }
  }

  const fields = error instanceof ApiError ? error.fields : {}
  return (
    <div className="page page--narrow">
      <div className="card auth-card">
        <h1>Log in</h1>
        {sessionLost && <Notice tone="warning">Your session ended. Please log in again.</Notice>}
        {params.get('next') && !sessionLost && <Notice>Log in to continue.</Notice>}
        <form onSubmit={submit} noValidate>
          <Field label="Email" name="email" type="email" autoComplete="email" value={email} onChange={(e) => setEmail(e.target.value)} error={fields.email?.[0]} required />
          <Field label="Password" name="password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} error={fields.password?.[0]} required />
          {error !== null && !Object.keys(fields).length && <ErrorNotice error={error} />}
          <button type="submit" className="btn btn--primary btn--block" disabled={busy}>
            {busy ? 'Logging in…' : 'Log in'}
          </button>
        </form>
        <div className="divider">
          <span>or</span>
        </div>
        <DemoButton onUser={done} />
        <p className="auth-card__foot">
          New here? <Link to={`/signup${params.get('next') ? `?next=${encodeURIComponent(next)}` : ''}`}>Create an account</Link>
        </p>
      </div>
    </div>
  )
}

export function SignupPage() {
  const { user, signIn } = useAuth()
  const [params] = useSearchParams()
  const navigate = useNavigate()
  const next = safeNext(params.get('next'))
  const [username, setUsername] = useState('')
  const [email, setEmail] = useState('')
  const [password, setPassword] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(null)

  if (user && !busy) return <Navigate to={next} replace />

  const submit = async (event: FormEvent) => {
    event.preventDefault()
    setBusy(true)
    setError(null)
    try {
      const created = await auth.signup(username.trim(), email.trim(), password)
      // Signup signs the user in; ask who we are in case the body differs.
      let me = created
      try {
        me = await auth.me()
      } catch {
        // keep the created user
      }
      signIn(me)
      navigate(next, { replace: true })
    } catch (err) {
      setError(err)
      setBusy(false)
    }
  }

  const fields = error instanceof ApiError ? error.fields : {}
  return (
    <div className="page page--narrow">
      <div className="card auth-card">
        <h1>Create your account</h1>
        <p className="muted">Buy from and sell to other collectors.</p>
        <form onSubmit={submit} noValidate>
          <Field label="Username" name="username" autoComplete="username" hint="3–30 letters, digits, _ or -" value={username} onChange={(e) => setUsername(e.target.value)} error={fields.username?.[0]} required />
          <Field label="Email" name="email" type="email" autoComplete="email" value={email} onChange={(e) => setEmail(e.target.value)} error={fields.email?.[0]} required />
          <Field label="Password" name="password" type="password" autoComplete="new-password" hint="At least 8 characters" value={password} onChange={(e) => setPassword(e.target.value)} error={fields.password?.[0]} required />
          {error !== null && !Object.keys(fields).length && <ErrorNotice error={error} />}
          <button type="submit" className="btn btn--primary btn--block" disabled={busy}>
            {busy ? 'Creating your account…' : 'Sign up'}
          </button>
        </form>
        <p className="auth-card__foot">
          Already have an account? <Link to="/login">Log in</Link>
        </p>
      </div>
    </div>
  )
}
