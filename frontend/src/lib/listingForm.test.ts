import { describe, expect, it } from 'vitest'
import type { Product } from '../api/types'
import { emptyListing, isStaleEdit, localErrors, toCreateInput, toPatch, valuesFrom } from './listingForm'

describe('listing form', () => {
  const p: Product = {
    id: 'p',
    seller_id: 's',
    seller_name: 'n',
    name: 'Old',
    description: '',
    category: 'Books',
    price: '10.00',
    stock: 3,
    image_url: null,
    version: 4,
    created_at: '',
    updated_at: '',
  }

  it('an edit sends only the changed fields', () => {
    const original = valuesFrom(p)
    expect(toPatch(original, { ...original, price: '12.00', stock: '2' })).toEqual({ price: '12.00', stock: 2 })
    expect(toPatch(original, original)).toEqual({})
  })

  it('a new listing leaves empty optional fields out', () => {
    expect(toCreateInput({ name: ' A ', description: '', category: 'Books', price: '1', stock: '2', image_url: '' })).toEqual({ name: 'A', category: 'Books', price: '1', stock: 2 })
  })

  it('stock must be a whole number before sending', () => {
    expect(localErrors({ ...valuesFrom(p), stock: '1.5' }).stock).toBeDefined()
    expect(localErrors(valuesFrom(p))).toEqual({})
  })

  it('412 and 409 both mean a stale edit', () => {
    expect(isStaleEdit(412)).toBe(true)
    expect(isStaleEdit(409)).toBe(true)
    expect(isStaleEdit(422)).toBe(false)
  })

  it('clearing the description or the picture sends null, trimmed text otherwise', () => {
    const original = valuesFrom({ ...p, description: 'Old text', image_url: 'https://example.com/a.jpg' })
    expect(original.image_url).toBe('https://example.com/a.jpg')
    expect(toPatch(original, { ...original, description: '  ', image_url: '' })).toEqual({ description: null, image_url: null })
    expect(toPatch(original, { ...original, name: '  New  ' })).toEqual({ name: 'New' })
  })

  it('a new listing starts with one in stock and keeps a description and picture given', () => {
    expect(emptyListing.stock).toBe('1')
    expect(localErrors(emptyListing)).toEqual({})
    expect(localErrors({ ...emptyListing, stock: '-1' }).stock).toBeDefined()
    expect(toCreateInput({ ...emptyListing, name: 'A', category: 'B', price: '2', description: ' Nice ', image_url: ' https://x.test/i.png ' })).toEqual({
      name: 'A',
      category: 'B',
      price: '2',
      stock: 1,
      description: 'Nice',
      image_url: 'https://x.test/i.png',
    })
  })
})
