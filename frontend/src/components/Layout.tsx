/** The page frame: header with navigation, the signed-in user and the cart; footer. */
import { useEffect, useRef, useState, type ReactNode } from 'react'
import { Link, NavLink, Navigate, useLocation, useNavigate } from 'react-router'
import { cartCount } from '../lib/cart'
import { useAuth } from '../state/auth'
import { useCart } from '../state/cart'
import { Spinner } from './ui'

function CartIcon() {
  return (
    <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false">
      <path d="M3 4h2l2.2 10.2a2 2 0 0 0 2 1.6h7.6a2 2 0 0 0 2-1.5L21 8H6.2" fill="none" stroke="currentColor" strokeWidth="1.8" strokeLinecap="round" strokeLinejoin="round" />
      <circle cx="10" cy="20" r="1.4" fill="currentColor" />
      <circle cx="17" cy="20" r="1.4" fill="currentColor" />
    </svg>
  )
}

export function Logo() {
  return (
    <Link to="/" className="logo" aria-label="Marketplace, home">
      <svg viewBox="0 0 32 32" width="28" height="28" aria-hidden="true" focusable="false">
        <rect width="32" height="32" rx="7" fill="currentColor" />
        <path d="M8 12h16l-1.6 11.2a2 2 0 0 1-2 1.8h-8.8a2 2 0 0 1-2-1.8z" fill="#f6f4ef" />
        <path d="M12 12V10a4 4 0 0 1 8 0v2" fill="none" stroke="#f6f4ef" strokeWidth="2" />
      </svg>
      <span>Marketplace</span>
    </Link>
  )
}

export function Layout({ children }: { children: ReactNode }) {
  const { user, status, logout, logoutEverywhere } = useAuth()
  const { cart } = useCart()
  const navigate = useNavigate()
  const location = useLocation()
  const mainRef = useRef<HTMLElement>(null)
  const [loggingOut, setLoggingOut] = useState(false)
  const [everywhere, setEverywhere] = useState<'idle' | 'busy' | 'failed'>('idle')
  const count = cartCount(cart)

  // Move focus to the new page's content on navigation, as a full page load would.
  const first = useRef(true)
  useEffect(() => {
    if (first.current) {
      first.current = false
      return
    }
    mainRef.current?.focus({ preventScroll: true })
    window.scrollTo(0, 0)
  }, [location.pathname])

  const onLogout = async () => {
    setLoggingOut(true)
    try {
      await logout()
    } catch {
      // The cookies are cleared locally either way.
    } finally {
      setLoggingOut(false)
      navigate('/')
    }
  }

  const onLogoutEverywhere = async () => {
    setEverywhere('busy')
    try {
      await logoutEverywhere()
      setEverywhere('idle')
      navigate('/login')
    } catch {
      setEverywhere('failed')
    }
  }

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="site-header">
        <div className="site-header__inner">
          <Logo />
          <nav className="site-nav" aria-label="Main">
            <NavLink to="/" end>
              Shop
            </NavLink>
            <NavLink to="/sell">Sell</NavLink>
            <NavLink to="/orders">Orders</NavLink>
            {user?.role === 'admin' && <NavLink to="/admin">Admin</NavLink>}
          </nav>
          <div className="site-header__account">
            {status === 'loading' ? (
              <span className="muted small">…</span>
            ) : user ? (
              <>
                <span className="whoami" data-testid="whoami">
                  <span className="avatar" aria-hidden="true">
                    {user.username.charAt(0).toUpperCase()}
                  </span>
                  <span>
                    <span className="sr-only">Signed in as </span>
                    {user.username}
                  </span>
                </span>
                <button type="button" className="btn btn--ghost btn--small" onClick={onLogout} disabled={loggingOut}>
                  {loggingOut ? 'Logging out…' : 'Log out'}
                </button>
              </>
            ) : (
              <>
                <Link to="/login" className="btn btn--ghost btn--small">
                  Log in
                </Link>
                <Link to="/signup" className="btn btn--primary btn--small header-signup">
                  Sign up
                </Link>
              </>
            )}
            <Link to="/cart" className="cart-link" aria-label={`Cart, ${count} ${count === 1 ? 'item' : 'items'}`}>
              <CartIcon />
              {count > 0 && (
                <span className="cart-link__count" aria-hidden="true" data-testid="cart-count">
                  {count}
                </span>
              )}
            </Link>
          </div>
        </div>
      </header>
      <main id="main" ref={mainRef} tabIndex={-1} className="site-main">
        {children}
      </main>
      <footer className="site-footer">
        <div className="site-footer__inner">
          <span>Marketplace — buy and sell records, books and gear.</span>
          <span className="muted">Payments on this site are demo payments; no card is ever charged.</span>
          {user && (
            <span className="muted">
              Signed in on another device you no longer have?{' '}
              <button type="button" className="link-button" onClick={onLogoutEverywhere} disabled={everywhere === 'busy'}>
                {everywhere === 'busy' ? 'Signing out everywhere…' : 'Sign out everywhere'}
              </button>
              {everywhere === 'failed' && <span role="alert"> That did not work; please try again.</span>}
            </span>
          )}
        </div>
      </footer>
    </>
  )
}

/** Shows its children to signed-in users (admins only with `admin`), else sends to login. */
export function RequireAuth({ children, admin = false }: { children: ReactNode; admin?: boolean }) {
  const { user, status } = useAuth()
  const location = useLocation()
  if (status === 'loading') return <Spinner label="Checking your session…" />
  if (!user) {
    const next = location.pathname + location.search
    return <Navigate to={`/login?next=${encodeURIComponent(next)}`} replace />
  }
  if (admin && user.role !== 'admin') {
    return (
      <div className="page">
        <h1>Admins only</h1>
        <p>This page is for the marketplace's administrators.</p>
      </div>
    )
  }
  return <>{children}</>
}
