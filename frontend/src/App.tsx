/** Routes of the storefront. */
import { BrowserRouter, Link, Route, Routes } from 'react-router'
import { Layout, RequireAuth } from './components/Layout'
import { AdminPage } from './pages/AdminPage'
import { LoginPage, SignupPage } from './pages/AuthPages'
import { CartPage } from './pages/CartPage'
import { CatalogPage } from './pages/Catalog'
import { OrderPage } from './pages/OrderPage'
import { OrdersPage } from './pages/OrdersPage'
import { ProductPage } from './pages/ProductPage'
import { EditListingPage, MyListingsPage, NewListingPage } from './pages/SellPages'
import { AuthProvider } from './state/auth'
import { CartProvider } from './state/cart'

function NotFound() {
  return (
    <div className="page">
      <h1>Page not found</h1>
      <p>
        The page you asked for does not exist. <Link to="/">Back to the shop</Link>
      </p>
    </div>
  )
}

export default function App() {
  return (
    <BrowserRouter>
      <AuthProvider>
        <CartProvider>
          <Layout>
            <Routes>
              <Route path="/" element={<CatalogPage />} />
              <Route path="/products/:id" element={<ProductPage />} />
              <Route path="/cart" element={<CartPage />} />
              <Route path="/login" element={<LoginPage />} />
              <Route path="/signup" element={<SignupPage />} />
              <Route path="/orders" element={<RequireAuth><OrdersPage /></RequireAuth>} />
              <Route path="/orders/:id" element={<RequireAuth><OrderPage /></RequireAuth>} />
              <Route path="/sell" element={<RequireAuth><MyListingsPage /></RequireAuth>} />
              <Route path="/sell/new" element={<RequireAuth><NewListingPage /></RequireAuth>} />
              <Route path="/sell/:id/edit" element={<RequireAuth><EditListingPage /></RequireAuth>} />
              <Route path="/admin" element={<RequireAuth admin><AdminPage /></RequireAuth>} />
              <Route path="*" element={<NotFound />} />
            </Routes>
          </Layout>
        </CartProvider>
      </AuthProvider>
    </BrowserRouter>
  )
}
