/** The catalog's filters live in the URL, so a search can be shared, reloaded and navigated back to. */
import type { CatalogQuery } from '../api/endpoints'

export const SORTS = [
  { value: 'newest', label: 'Newest' },
  { value: 'price_asc', label: 'Price: low to high' },
  { value: 'price_desc', label: 'Price: high to low' },
  { value: 'name', label: 'Name' },
] as const

export const PER_PAGE = 24

export interface CatalogState {
  q: string
  category: string
  minPrice: string
  maxPrice: string
  sort: string
  page: number
}

const DEFAULT_SORT = 'newest'

function cleanPrice(value: string | null): string {
  const v = (value ?? '').trim()
  return /^\d+(\.\d{1,2})?$/.test(v) ? v : ''
}

export function parseCatalogParams(params: URLSearchParams): CatalogState {
  const sort = params.get('sort') ?? DEFAULT_SORT
  const page = Number.parseInt(params.get('page') ?? '1', 10)
  return {
    q: (params.get('q') ?? '').slice(0, 200),
    category: params.get('category') ?? '',
    minPrice: cleanPrice(params.get('min_price')),
    maxPrice: cleanPrice(params.get('max_price')),
    sort: SORTS.some((s) => s.value === sort) ? sort : DEFAULT_SORT,
    page: Number.isFinite(page) && page >= 1 ? page : 1,
  }
}

/** The URL form, leaving defaults out so plain "/" stays plain. */
export function toCatalogParams(state: CatalogState): URLSearchParams {
  const params = new URLSearchParams()
  if (state.q.trim()) params.set('q', state.q.trim())
  if (state.category) params.set('category', state.category)
  if (state.minPrice) params.set('min_price', state.minPrice)
  if (state.maxPrice) params.set('max_price', state.maxPrice)
  if (state.sort !== DEFAULT_SORT) params.set('sort', state.sort)
  if (state.page > 1) params.set('page', String(state.page))
  return params
}

export function toApiQuery(state: CatalogState): CatalogQuery {
  return {
    q: state.q.trim() || undefined,
    category: state.category || undefined,
    min_price: state.minPrice || undefined,
    max_price: state.maxPrice || undefined,
    sort: state.sort,
    page: state.page,
    per_page: PER_PAGE,
  }
}

/** A message when the price range cannot be applied, else null. */
export function priceRangeError(min: string, max: string): string | null {
  const valid = (v: string) => v === '' || /^\d+(\.\d{1,2})?$/.test(v.trim())
  if (!valid(min) || !valid(max)) return 'Prices are amounts like 10 or 24.99.'
  if (min && max && Number(min) > Number(max)) return 'The lowest price is above the highest.'
  return null
}

export function pageCount(total: number, perPage: number): number {
  return Math.max(1, Math.ceil(total / Math.max(1, perPage)))
}

/** Page numbers to show around the current one, with null for a gap: [1, null, 4, 5, 6, null, 12]. */
export function pageWindow(current: number, pages: number): (number | null)[] {
  const set = new Set<number>([1, pages, current - 1, current, current + 1])
  const sorted = [...set].filter((p) => p >= 1 && p <= pages).sort((a, b) => a - b)
  const out: (number | null)[] = []
  for (const p of sorted) {
    const last = out[out.length - 1]
    if (typeof last === 'number' && p - last > 1) out.push(null)
    out.push(p)
  }
  return out
}
