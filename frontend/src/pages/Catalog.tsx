/** The shop window: search, filters, sort, pagination and product cards. */
import { useState, type FormEvent } from 'react'
import { Link, useSearchParams } from 'react-router'
import { products } from '../api/endpoints'
import type { Product } from '../api/types'
import { ProductImage } from '../components/ProductImage'
import { EmptyState, ErrorNotice, Pagination, Spinner } from '../components/ui'
import {
  defaultSort,
  pageCount,
  pageLink,
  parseCatalogParams,
  PER_PAGE,
  priceRangeError,
  sortsFor,
  toApiQuery,
  toCatalogParams,
  type CatalogState,
} from '../lib/catalogQuery'
import { formatPrice } from '../lib/money'
import { useAsync } from '../state/useAsync'

export function ProductCard({ product }: { product: Product }) {
  const soldOut = product.stock <= 0
  return (
    <li className="card product-card" data-testid="product-card">
      <Link to={`/products/${product.id}`} className="product-card__link">
        <ProductImage src={product.image_url} name={product.name} category={product.category} seed={product.id} />
        <div className="product-card__body">
          <h3 className="product-card__name">{product.name}</h3>
          <p className="product-card__seller">
            {product.category} · by {product.seller_name}
          </p>
          <div className="product-card__foot">
            <span className="price">{formatPrice(product.price)}</span>
            {soldOut ? (
              <span className="stock stock--out">Sold out</span>
            ) : (
              <span className={`stock${product.stock <= 3 ? ' stock--low' : ''}`}>
                {product.stock <= 3 ? `Only ${product.stock} left` : `${product.stock} in stock`}
              </span>
            )}
          </div>
        </div>
      </Link>
    </li>
  )
}

export function CatalogPage() {
  const [params, setParams] = useSearchParams()
  const state = parseCatalogParams(params)
  const [q, setQ] = useState(state.q)
  const [minPrice, setMinPrice] = useState(state.minPrice)
  const [maxPrice, setMaxPrice] = useState(state.maxPrice)
  const [rangeError, setRangeError] = useState<string | null>(null)
  const [filtersOpen, setFiltersOpen] = useState(false)

  // Keep the inputs in step when the URL changes (back button, a link).
  const urlInputs = `${state.q}\n${state.minPrice}\n${state.maxPrice}`
  const [syncedInputs, setSyncedInputs] = useState(urlInputs)
  if (syncedInputs !== urlInputs) {
    setSyncedInputs(urlInputs)
    setQ(state.q)
    setMinPrice(state.minPrice)
    setMaxPrice(state.maxPrice)
  }

  const list = useAsync((signal) => products.list(toApiQuery(state), signal), [params.toString()])
  // The category counts of the current search (every category), from the page itself.
  const facets = list.data?.facets

  const go = (next: Partial<CatalogState>) => {
    setParams(toCatalogParams({ ...state, page: 1, after: '', before: '', ...next }))
  }

  const onSubmit = (event: FormEvent) => {
    event.preventDefault()
    const error = priceRangeError(minPrice, maxPrice)
    setRangeError(error)
    if (error) return
    // A sort left at its default follows the new search's default (best match when searching).
    const sort = state.sort === defaultSort(state.q) ? defaultSort(q) : state.sort
    go({ q, sort, minPrice: minPrice.trim(), maxPrice: maxPrice.trim() })
  }

  const hrefFor = (page: number) => `/?${toCatalogParams(pageLink(state, page, list.data)).toString()}`
  const filtered = Boolean(state.q || state.category || state.minPrice || state.maxPrice)

  return (
    <div className="page page--wide">
      <section className="hero">
        <h1>Find something good</h1>
        <p>Records, books and gear, sold by people who cared for them.</p>
        <form className="search" role="search" onSubmit={onSubmit}>
          <label htmlFor="search-q" className="sr-only">
            Search products
          </label>
          <input id="search-q" type="search" name="q" placeholder="Search records, books, gear…" value={q} onChange={(e) => setQ(e.target.value)} maxLength={200} />
          <button type="submit" className="btn btn--primary">
            Search
          </button>
        </form>
      </section>

      <div className="catalog">
        <aside className="filters" aria-label="Filters">
          <button type="button" className="btn btn--ghost btn--block filters__toggle" aria-expanded={filtersOpen} aria-controls="catalog-filters" onClick={() => setFiltersOpen((o) => !o)}>
            {filtersOpen ? 'Hide filters' : 'Filters and sorting'}
            {filtered && !filtersOpen ? ' (on)' : ''}
          </button>
          <form onSubmit={onSubmit} className={`filters__form${filtersOpen ? ' is-open' : ''}`} id="catalog-filters">
            <div className="field">
              <label htmlFor="filter-category">Category</label>
              <select id="filter-category" value={state.category} onChange={(e) => go({ category: e.target.value })}>
                <option value="">All categories</option>
                {facets?.map((c) => (
                  <option key={c.name} value={c.name}>
                    {c.name} ({c.count})
                  </option>
                ))}
                {state.category && !facets?.some((c) => c.name === state.category) && (
                  <option value={state.category}>{state.category} (0)</option>
                )}
              </select>
            </div>
            <fieldset className="field price-range">
              <legend>Price</legend>
              <div className="price-range__inputs">
                <label htmlFor="filter-min" className="sr-only">
                  Lowest price
                </label>
                <input id="filter-min" inputMode="decimal" placeholder="Min" value={minPrice} onChange={(e) => setMinPrice(e.target.value)} aria-invalid={rangeError ? true : undefined} aria-describedby={rangeError ? 'price-error' : undefined} />
                <span aria-hidden="true">–</span>
                <label htmlFor="filter-max" className="sr-only">
                  Highest price
                </label>
                <input id="filter-max" inputMode="decimal" placeholder="Max" value={maxPrice} onChange={(e) => setMaxPrice(e.target.value)} aria-invalid={rangeError ? true : undefined} aria-describedby={rangeError ? 'price-error' : undefined} />
              </div>
              {rangeError && (
                <p className="field__error" id="price-error">
                  {rangeError}
                </p>
              )}
              <button type="submit" className="btn btn--ghost btn--small">
                Apply
              </button>
            </fieldset>
            <div className="field">
              <label htmlFor="filter-sort">Sort by</label>
              <select id="filter-sort" value={state.sort} onChange={(e) => go({ sort: e.target.value })}>
                {sortsFor(state.q).map((s) => (
                  <option key={s.value} value={s.value}>
                    {s.label}
                  </option>
                ))}
              </select>
            </div>
            {filtered && (
              <button type="button" className="btn btn--link" onClick={() => setParams(new URLSearchParams())}>
                Clear filters
              </button>
            )}
          </form>
        </aside>

        <section className="results" aria-labelledby="results-heading" aria-busy={list.status === 'loading'}>
          <div className="results__head">
            <h2 id="results-heading">{state.q ? `Results for “${state.q}”` : state.category || 'All products'}</h2>
            {list.data && (
              <span className="muted" aria-live="polite">
                {list.data.total.toLocaleString('en-US')} {list.data.total === 1 ? 'product' : 'products'}
              </span>
            )}
          </div>
          {list.data?.fuzzy && list.data.items.length > 0 && (
            <p className="notice notice--info" role="status" data-testid="fuzzy-notice">
              Nothing matched “{state.q}” exactly. Showing listings with a similar name.
            </p>
          )}
          {list.data && state.sort === 'relevance' && list.data.sort === 'newest' && (
            <p className="muted" data-testid="sort-notice">
              So many listings match that they are shown newest first. Add a word to rank them by best match.
            </p>
          )}
          {list.status === 'error' && <ErrorNotice error={list.error} onRetry={list.reload} title="The catalog could not be loaded." />}
          {list.status === 'loading' && !list.data && <Spinner label="Loading products…" />}
          {list.data && list.data.items.length === 0 && (
            <EmptyState title="Nothing matches">
              <p>Try fewer words or another category.</p>
            </EmptyState>
          )}
          {list.data && list.data.items.length > 0 && (
            <>
              <ul className={`product-grid${list.status === 'loading' ? ' is-stale' : ''}`}>
                {list.data.items.map((p) => (
                  <ProductCard key={p.id} product={p} />
                ))}
              </ul>
              <Pagination page={state.page} pages={pageCount(list.data.total, list.data.per_page || PER_PAGE)} hrefFor={hrefFor} label="Catalog pages" />
            </>
          )}
        </section>
      </div>
    </div>
  )
}
