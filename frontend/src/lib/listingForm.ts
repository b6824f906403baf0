/** The listing form's values, and turning them into the create or the edit request. */
import type { Product, ProductInput } from '../api/types'

export interface ListingValues {
  name: string
  description: string
  category: string
  price: string
  stock: string
  image_url: string
}

export const emptyListing: ListingValues = { name: '', description: '', category: '', price: '', stock: '1', image_url: '' }

export function valuesFrom(p: Product): ListingValues {
  return {
    name: p.name,
    description: p.description,
    category: p.category,
    price: p.price,
    stock: String(p.stock),
    image_url: p.image_url ?? '',
  }
}

/** Checks the browser can make before sending; the service stays the authority (its 422 wins). */
export function localErrors(v: ListingValues): Record<string, string[]> {
  const errors: Record<string, string[]> = {}
  if (!/^\d+$/.test(v.stock.trim())) errors.stock = ['Stock must be a whole number, 0 or more.']
  return errors
}

export function toCreateInput(v: ListingValues): ProductInput {
  const input: ProductInput = {
    name: v.name.trim(),
    category: v.category.trim(),
    price: v.price.trim(),
    stock: Number.parseInt(v.stock.trim(), 10),
  }
  if (v.description.trim()) input.description = v.description.trim()
  if (v.image_url.trim()) input.image_url = v.image_url.trim()
  return input
}

/** Only the fields that changed since the form was loaded (a PATCH of nothing is not sent). */
export function toPatch(original: ListingValues, v: ListingValues): Partial<ProductInput> {
  const patch: Partial<ProductInput> = {}
  if (v.name.trim() !== original.name) patch.name = v.name.trim()
  if (v.category.trim() !== original.category) patch.category = v.category.trim()
  if (v.price.trim() !== original.price) patch.price = v.price.trim()
  if (v.stock.trim() !== original.stock) patch.stock = Number.parseInt(v.stock.trim(), 10)
  if (v.description.trim() !== original.description.trim()) patch.description = v.description.trim() || null
  if (v.image_url.trim() !== original.image_url) patch.image_url = v.image_url.trim() || null
  return patch
}

/** A stale-version answer to an edit: the listing changed since the form was opened. */
export function isStaleEdit(status: number): boolean {
  return status === 412 || status === 409
}
