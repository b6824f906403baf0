/**
 * One function per service endpoint the SPA uses. Request and response types come from the
 * operations of the services' OpenAPI documents (generated/, through types.ts).
 */
import { client } from './client'
import type {
  AuthOperation as A,
  CardInput,
  NewOrderLine,
  OrderStatus,
  OrdersOperation as O,
  ProductChanges,
  ProductInput,
  ProductsOperation as P,
  RequestBody,
  ResponseBody,
  Session,
  User,
} from './types'

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

/** A sign-in answers with the user and a token for API clients; the browser relies on the cookie. */
function userOf(session: Session): User {
  return session.user
}

export const auth = {
  me: () => client.request<ResponseBody<A['me']>>('GET', '/api/auth/me'),
  login: async (email: string, password: string) => {
    const body: RequestBody<A['login']> = { email, password }
    return userOf(await client.request<ResponseBody<A['login']>>('POST', '/api/auth/login', { body }))
  },
  signup: (username: string, email: string, password: string) => {
    const body: RequestBody<A['signup']> = { username, email, password }
    return client.request<ResponseBody<A['signup'], 201>>('POST', '/api/auth/signup', { body })
  },
  demoLogin: async () => userOf(await client.request<ResponseBody<A['demo_login']>>('POST', '/api/auth/demo-login')),
  logout: () => client.request<void>('POST', '/api/auth/logout'),
  /** Ends every session of the signed-in user, on every browser and device. */
  logoutEverywhere: () => client.request<void>('POST', '/api/auth/logout-everywhere'),
}

export const products = {
  list: (query: CatalogQuery, signal?: AbortSignal) =>
    client.request<ResponseBody<P['list_products']>>('GET', '/api/products', { query: { ...query }, signal }),
  get: (id: string, signal?: AbortSignal) =>
    client.request<ResponseBody<P['get_product']>>('GET', `/api/products/${encodeURIComponent(id)}`, { signal }),
  categories: (signal?: AbortSignal) =>
    client.request<ResponseBody<P['product_categories']>>('GET', '/api/products/categories', { signal }),
  mine: (page: number, signal?: AbortSignal) =>
    client.request<ResponseBody<P['my_products']>>('GET', '/api/products/mine', { query: { page, per_page: 50 }, signal }),
  create: (input: ProductInput) =>
    client.request<ResponseBody<P['create_product'], 201>>('POST', '/api/products', { body: input }),
  update: (id: string, version: number, changes: ProductChanges) =>
    client.request<ResponseBody<P['update_product']>>('PATCH', `/api/products/${encodeURIComponent(id)}`, {
      body: changes,
      headers: { 'If-Match': `"${version}"` },
    }),
  remove: (id: string) => client.request<void>('DELETE', `/api/products/${encodeURIComponent(id)}`),
}

export type { CardInput }

export const orders = {
  place: (items: NewOrderLine[], idempotencyKey: string) => {
    const body: RequestBody<O['place_order']> = { items }
    return client.request<ResponseBody<O['place_order'], 201>>('POST', '/api/orders', {
      body,
      headers: { 'Idempotency-Key': idempotencyKey },
    })
  },
  list: (query: { status?: OrderStatus | ''; page?: number; per_page?: number }, signal?: AbortSignal) =>
    client.request<ResponseBody<O['list_orders']>>('GET', '/api/orders', { query, signal }),
  get: (id: string, signal?: AbortSignal) =>
    client.request<ResponseBody<O['get_order']>>('GET', `/api/orders/${encodeURIComponent(id)}`, { signal }),
  cancel: (id: string) =>
    client.request<ResponseBody<O['cancel_order']>>('POST', `/api/orders/${encodeURIComponent(id)}/cancel`),
  pay: (id: string, card: CardInput) =>
    client.request<ResponseBody<O['pay_order']>>('POST', `/api/orders/${encodeURIComponent(id)}/pay`, { body: card }),
  eventsUrl: (id: string) => `/api/orders/${encodeURIComponent(id)}/events`,
}

export const admin = {
  streams: (signal?: AbortSignal) =>
    client.request<ResponseBody<O['stream_health']>>('GET', '/api/admin/streams', { signal }),
  deadLetters: (signal?: AbortSignal) =>
    client.request<ResponseBody<O['dead_letters']>>('GET', '/api/admin/dead-letters', { signal }),
  replay: (id: string) =>
    client.request<ResponseBody<O['replay_dead_letter']>>('POST', `/api/admin/dead-letters/${encodeURIComponent(id)}/replay`),
}
