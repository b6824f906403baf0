/** Shapes of the services' JSON, as the issues specify them. Money is a decimal string. */

export type Role = 'user' | 'admin'

export interface User {
  id: string
  username: string
  email: string
  role: Role
  created_at: string
}

export interface Product {
  id: string
  seller_id: string
  seller_name: string
  name: string
  description: string | null
  category: string
  price: string
  stock: number
  image_url: string | null
  version: number
  created_at: string
  updated_at: string
}

export interface Page<T> {
  items: T[]
  page: number
  per_page: number
  total: number
}

export interface Category {
  name: string
  count: number
}

/** A page of the public catalog. */
export interface CatalogPage extends Page<Product> {
  /** The order used: a search with very many matches comes back newest first. */
  sort: string
  /** Nothing matched the words; these listings have a similar name. */
  fuzzy: boolean
  /** Listings per category for this search, in every category. */
  facets?: Category[]
  /** `after=` this id asks for the next page; null on the last. */
  next_after: string | null
  /** `before=` this id asks for the previous page; null on the first. */
  prev_before: string | null
}

export type OrderStatus = 'PENDING' | 'CONFIRMED' | 'REJECTED' | 'PAID' | 'CANCELLED' | 'EXPIRED'

export interface OrderItem {
  product_id: string
  name: string
  unit_price: string
  quantity: number
  line_total: string
}

export interface StatusChange {
  status: OrderStatus
  reason?: string | null
  at?: string
  changed_at?: string
  created_at?: string
}

export interface Order {
  id: string
  user_id: string
  status: OrderStatus
  items: OrderItem[]
  total: string
  reason: string | null
  expires_at: string | null
  created_at: string
  updated_at: string
  history?: StatusChange[]
}

export interface ProductInput {
  name: string
  description?: string | null
  category: string
  price: string
  stock: number | string
  image_url?: string | null
}

export interface ConsumerGroupHealth {
  name: string
  consumers: number
  pending: number
  lag: number | null
  last_delivered_id: string
}

export interface StreamHealth {
  stream: string
  length: number
  groups: ConsumerGroupHealth[]
}

export interface DeadLetter {
  id: string
  event_id: string
  event_type: string
  origin_stream: string
  origin_id: string
  group: string
  attempts: number
  error: string
  failed_at: string
  fields?: Record<string, string>
}
