/** Selling: the seller's listings, and the create / edit form with per-field errors. */
import { useState, type FormEvent, type ReactNode } from 'react'
import { Link, useNavigate, useParams } from 'react-router'
import { ApiError } from '../api/client'
import { products } from '../api/endpoints'
import type { Product } from '../api/types'
import { ProductImage } from '../components/ProductImage'
import { EmptyState, ErrorNotice, Field, Notice, Spinner } from '../components/ui'
import { emptyListing, isStaleEdit, localErrors, toCreateInput, toPatch, valuesFrom, type ListingValues } from '../lib/listingForm'
import { formatPrice } from '../lib/money'
import { useAsync } from '../state/useAsync'

function ListingRow({ product, onDeleted }: { product: Product; onDeleted: () => void }) {
  const [confirming, setConfirming] = useState(false)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(null)
  const remove = async () => {
    setBusy(true)
    setError(null)
    try {
      await products.remove(product.id)
      onDeleted()
    } catch (err) {
      setError(err)
      setBusy(false)
    }
  }
  return (
    <li className="card listing-row" data-testid="listing-row">
      <div className="listing-row__thumb">
        <ProductImage src={product.image_url} name={product.name} category={product.category} seed={product.id} />
      </div>
      <div className="listing-row__info">
        <Link to={`/products/${product.id}`} className="listing-row__name">
          {product.name}
        </Link>
        <span className="small muted">{product.category}</span>
      </div>
      <span className="price">{formatPrice(product.price)}</span>
      <span className={`stock${product.stock <= 0 ? ' stock--out' : ''}`} data-testid="listing-stock">
        {product.stock <= 0 ? 'Sold out' : `${product.stock} in stock`}
      </span>
      <div className="listing-row__actions">
        {confirming ? (
          <>
            <span className="small">Delete this listing?</span>
            <button type="button" className="btn btn--danger btn--small" onClick={remove} disabled={busy}>
              {busy ? 'Deleting…' : 'Delete'}
            </button>
            <button type="button" className="btn btn--ghost btn--small" onClick={() => setConfirming(false)} disabled={busy}>
              Keep
            </button>
          </>
        ) : (
          <>
            <Link to={`/sell/${product.id}/edit`} className="btn btn--ghost btn--small" aria-label={`Edit ${product.name}`}>
              Edit
            </Link>
            <button type="button" className="btn btn--ghost btn--small" onClick={() => setConfirming(true)} aria-label={`Delete ${product.name}`}>
              Delete
            </button>
          </>
        )}
      </div>
      {error !== null && <ErrorNotice error={error} />}
    </li>
  )
}

export function MyListingsPage() {
  const list = useAsync((signal) => products.mine(1, signal), [])
  return (
    <div className="page page--wide">
      <div className="page-head">
        <h1>Your listings</h1>
        <Link to="/sell/new" className="btn btn--primary">
          List a product
        </Link>
      </div>
      {list.status === 'error' && <ErrorNotice error={list.error} onRetry={list.reload} title="Your listings could not be loaded." />}
      {list.status === 'loading' && !list.data && <Spinner label="Loading your listings…" />}
      {list.data && list.data.items.length === 0 && (
        <EmptyState title="You are not selling anything yet">
          <p>List a record, a book or some gear in a minute.</p>
          <Link to="/sell/new" className="btn btn--primary">
            List your first product
          </Link>
        </EmptyState>
      )}
      {list.data && list.data.items.length > 0 && (
        <>
          <ul className="listing-list">
            {list.data.items.map((p) => (
              <ListingRow key={p.id} product={p} onDeleted={list.reload} />
            ))}
          </ul>
          {list.data.total > list.data.items.length && (
            <p className="muted small">
              Showing {list.data.items.length} of {list.data.total} listings.
            </p>
          )}
        </>
      )}
    </div>
  )
}

function ListingForm({ initial, submitLabel, onSubmit, busyLabel, topError }: {
  initial: ListingValues
  submitLabel: string
  busyLabel: string
  onSubmit: (values: ListingValues) => Promise<ApiError | null>
  topError?: ReactNode
}) {
  const [values, setValues] = useState(initial)
  const [busy, setBusy] = useState(false)
  const [fields, setFields] = useState<Record<string, string[]>>({})
  const [error, setError] = useState<ApiError | null>(null)
  const categories = useAsync((signal) => products.categories(signal), [])

  const set = (key: keyof ListingValues) => (e: { target: { value: string } }) => setValues((v) => ({ ...v, [key]: e.target.value }))

  const submit = async (event: FormEvent) => {
    event.preventDefault()
    const local = localErrors(values)
    setFields(local)
    setError(null)
    if (Object.keys(local).length) return
    setBusy(true)
    const failure = await onSubmit(values)
    setBusy(false)
    if (failure) {
      setFields(failure.fields)
      setError(failure)
    }
  }

  const err = (f: string) => fields[f]?.[0]
  const unplaced = error && Object.keys(error.fields).some((f) => !['name', 'description', 'category', 'price', 'stock', 'image_url'].includes(f))
  return (
    <form className="card listing-form" onSubmit={submit} noValidate>
      {topError}
      {error && (!Object.keys(error.fields).length || unplaced) && <ErrorNotice error={error} />}
      {error && Object.keys(error.fields).length > 0 && !unplaced && <Notice tone="error">Please fix the fields marked below.</Notice>}
      <Field label="Name" name="name" value={values.name} onChange={set('name')} error={err('name')} maxLength={200} />
      <Field label="Description" name="description" multiline rows={5} value={values.description} onChange={set('description')} error={err('description')} hint="Condition, edition, anything a buyer should know." />
      <div className="field-row">
        <Field label="Category" name="category" list="category-options" value={values.category} onChange={set('category')} error={err('category')} maxLength={50} />
        <datalist id="category-options">
          {categories.data?.map((c) => (
            <option key={c.name} value={c.name} />
          ))}
        </datalist>
        <Field label="Price (USD)" name="price" inputMode="decimal" value={values.price} onChange={set('price')} error={err('price')} placeholder="24.99" />
        <Field label="Stock" name="stock" inputMode="numeric" value={values.stock} onChange={set('stock')} error={err('stock')} />
      </div>
      <Field label="Image URL (optional)" name="image_url" type="url" value={values.image_url} onChange={set('image_url')} error={err('image_url')} placeholder="https://…" />
      <div className="button-row">
        <button type="submit" className="btn btn--primary" disabled={busy} aria-busy={busy}>
          {busy ? busyLabel : submitLabel}
        </button>
        <Link to="/sell" className="btn btn--ghost">
          Cancel
        </Link>
      </div>
    </form>
  )
}

export function NewListingPage() {
  const navigate = useNavigate()
  return (
    <div className="page">
      <h1>List a product</h1>
      <ListingForm
        initial={emptyListing}
        submitLabel="Publish listing"
        busyLabel="Publishing…"
        onSubmit={async (values) => {
          try {
            const created = await products.create(toCreateInput(values))
            navigate(`/products/${created.id}`)
            return null
          } catch (err) {
            return err instanceof ApiError ? err : new ApiError(0, 'unknown', (err as Error).message)
          }
        }}
      />
    </div>
  )
}

export function EditListingPage() {
  const { id = '' } = useParams()
  const navigate = useNavigate()
  const loaded = useAsync((signal) => products.get(id, signal), [id])
  const [stale, setStale] = useState(false)
  const [formKey, setFormKey] = useState(0)

  if (loaded.status === 'loading' && !loaded.data) return <Spinner label="Loading the listing…" />
  if (!loaded.data) return <div className="page"><ErrorNotice error={loaded.error} onRetry={loaded.reload} title="The listing could not be loaded." /></div>
  const product = loaded.data
  const original = valuesFrom(product)

  return (
    <div className="page">
      <h1>Edit listing</h1>
      <ListingForm
        key={`${product.id}-${product.version}-${formKey}`}
        initial={original}
        submitLabel="Save changes"
        busyLabel="Saving…"
        topError={
          stale ? (
            <div className="notice notice--warning" role="alert" data-testid="stale-edit">
              <div>
                <strong>Someone else changed this listing</strong> since you opened it, so your changes were not saved.
              </div>
              <button
                type="button"
                className="btn btn--small btn--ghost"
                onClick={() => {
                  setStale(false)
                  setFormKey((k) => k + 1)
                  loaded.reload()
                }}
              >
                Load the latest version
              </button>
            </div>
          ) : undefined
        }
        onSubmit={async (values) => {
          const patch = toPatch(original, values)
          if (Object.keys(patch).length === 0) {
            navigate('/sell')
            return null
          }
          try {
            await products.update(product.id, product.version, patch)
            setStale(false)
            navigate('/sell')
            return null
          } catch (err) {
            if (err instanceof ApiError && isStaleEdit(err.status)) {
              setStale(true)
              return null
            }
            return err instanceof ApiError ? err : new ApiError(0, 'unknown', (err as Error).message)
          }
        }}
      />
    </div>
  )
}
