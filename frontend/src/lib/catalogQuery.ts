/** The catalog's filters live in the URL, so a search can be shared, reloaded and navigated back to. */
import type { CatalogQuery } from '../api/endpoints'

/** The orders a shopper can pick; "Best match" only with a search. */
export const SORTS = [
  { value: 'relevance', label: 'Best match' },
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
  /** Continue after / before this listing (the service's next_after / prev_before): pages then
   * stay put when listings are created meanwhile. Empty when the page is asked by number. */
  after: string
  before: string
}

/** Best match for a search, newest otherwise. */
export function defaultSort(q: string): string {
  return q.trim() ? 'relevance' : 'newest'
}

/** The orders offered for this search. */
export function sortsFor(q: string) {
  return SORTS.filter((s) => s.value !== 'relevance' || q.trim())
}

const LISTING_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

function cleanPrice(value: string | null): string {
  const v = (value ?? '').trim()
  return /^\d+(\.\d{1,2})?$/.test(v) ? v : ''
}

export function parseCatalogParams(params: URLSearchParams): CatalogState {
  const q = (params.get('q') ?? '').slice(0, 200)
  const sort = params.get('sort') ?? defaultSort(q)
  const page = Number.parseInt(params.get('page') ?? '1', 10)
  const listing = (name: string) => {
    const id = params.get(name) ?? ''
    return LISTING_ID.test(id) ? id : ''
  }
  const after = listing('after')
  return {
    q,
    category: params.get('category') ?? '',
    minPrice: cleanPrice(params.get('min_price')),
    maxPrice: cleanPrice(params.get('max_price')),
    sort: sortsFor(q).some((s) => s.value === sort) ? sort : defaultSort(q),
    page: Number.isFinite(page) && page >= 1 ? page : 1,
    after,
    before: after ? '' : listing('before'),
  }
}

/** The URL form, leaving defaults out so plain "/" stays plain. */
export function toCatalogParams(state: CatalogState): URLSearchParams {
  const params = new URLSearchParams()
  if (state.q.trim()) params.set('q', state.q.trim())
  if (state.category) params.set('category', state.category)
  if (state.minPrice) params.set('min_price', state.minPrice)
  if (state.maxPrice) params.set('max_price', state.maxPrice)
  if (state.sort !== defaultSort(state.q)) params.set('sort', state.sort)
  if (state.page > 1) params.set('page', String(state.page))
  if (state.after) params.set('after', state.after)
  else if (state.before) params.set('before', state.before)
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
    after: state.after || undefined,
    before: state.before || undefined,
  }
}

/** Where a link to page `target` goes from the page shown: the next and previous pages continue
 * from its last and first listing (nothing shifts if listings were created meanwhile), any other
 * page is asked by number. */
export function pageLink(
  state: CatalogState,
  target: number,
  shown: { next_after?: string | null; prev_before?: string | null } | undefined,
): CatalogState {
  const next = target === state.page + 1 && shown?.next_after
  const previous = target === state.page - 1 && target > 1 && shown?.prev_before
  return { ...state, page: target, after: next || '', before: previous || '' }
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
