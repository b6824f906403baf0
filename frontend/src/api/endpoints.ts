/** One function per service endpoint the SPA uses. */
import { client } from './client'
import type { CatalogPage, Category, DeadLetter, Order, OrderStatus, Page, Product, ProductInput, StreamHealth, User } from './types'

export interface CatalogQuery {
  q?: string
  category?: string
  min_price?: string
  max_price?: string
  sort?: string
  page?: number
  per_page?: number
  after?: string
  before?: string
}

/** The login response carries a token for API clients; the browser relies on the cookie. */
interface LoginResponse {
  user: User
}

function unwrapUser(body: User | LoginResponse): User {
  return 'user' in body && body.user ? body.user : (body as User)
}

export const auth = {
  me: () => client.request<User>('GET', '/api/auth/me'),
  login: async (email: string, password: string) =>
    unwrapUser(await client.request<LoginResponse>('POST', '/api/auth/login', { body: { email, password } })),
  signup: async (username: string, email: string, password: string) =>
    unwrapUser(await client.request<User>('POST', '/api/auth/signup', { body: { username, email, password } })),
  demoLogin: async () => unwrapUser(await client.request<LoginResponse>('POST', '/api/auth/demo-login')),
  logout: () => client.request<void>('POST', '/api/auth/logout'),
  /** Ends every session of the signed-in user, on every browser and device. */
  logoutEverywhere: () => client.request<void>('POST', '/api/auth/logout-everywhere'),
}

export const products = {
  list: (query: CatalogQuery, signal?: AbortSignal) =>
    client.request<CatalogPage>('GET', '/api/products', { query: { ...query }, signal }),
  get: (id: string, signal?: AbortSignal) =>
    client.request<Product>('GET', `/api/products/${encodeURIComponent(id)}`, { signal }),
  categories: (signal?: AbortSignal) => client.request<Category[]>('GET', '/api/products/categories', { signal }),
  mine: (page: number, signal?: AbortSignal) =>
    client.request<Page<Product>>('GET', '/api/products/mine', { query: { page, per_page: 50 }, signal }),
  create: (input: ProductInput) => client.request<Product>('POST', '/api/products', { body: input }),
  update: (id: string, version: number, changes: Partial<ProductInput>) =>
    client.request<Product>('PATCH', `/api/products/${encodeURIComponent(id)}`, {
      body: changes,
      headers: { 'If-Match': `"${version}"` },
    }),
  remove: (id: string) => client.request<void>('DELETE', `/api/products/${encodeURIComponent(id)}`),
}

export interface CardInput {
  card_number: string
  expiry: string
  cvc: string
}

export const orders = {
  place: (items: { product_id: string; quantity: number }[], idempotencyKey: string) =>
    client.request<Order>('POST', '/api/orders', {
      body: { items },
      headers: { 'Idempotency-Key': idempotencyKey },
    }),
  list: (query: { status?: OrderStatus | ''; page?: number; per_page?: number }, signal?: AbortSignal) =>
    client.request<Page<Order>>('GET', '/api/orders', { query, signal }),
  get: (id: string, signal?: AbortSignal) =>
    client.request<Order>('GET', `/api/orders/${encodeURIComponent(id)}`, { signal }),
  cancel: (id: string) => client.request<Order>('POST', `/api/orders/${encodeURIComponent(id)}/cancel`),
  pay: (id: string, card: CardInput) =>
    client.request<Order>('POST', `/api/orders/${encodeURIComponent(id)}/pay`, { body: card }),
  eventsUrl: (id: string) => `/api/orders/${encodeURIComponent(id)}/events`,
}

export const admin = {
  streams: (signal?: AbortSignal) => client.request<StreamHealth[]>('GET', '/api/admin/streams', { signal }),
  deadLetters: (signal?: AbortSignal) =>
    client.request<DeadLetter[]>('GET', '/api/admin/dead-letters', { signal }),
  replay: (id: string) => client.request<unknown>('POST', `/api/admin/dead-letters/${encodeURIComponent(id)}/replay`),
}
