import { describe, expect, it } from 'vitest'
import { defaultSort, pageCount, pageLink, pageWindow, parseCatalogParams, PER_PAGE, priceRangeError, sortsFor, toApiQuery, toCatalogParams } from './catalogQuery'

describe('catalog query', () => {
  it('reads the URL, ignoring nonsense', () => {
    const s = parseCatalogParams(new URLSearchParams('q=jazz&category=Records&min_price=abc&max_price=30&sort=bogus&page=-2'))
    expect(s).toEqual({ q: 'jazz', category: 'Records', minPrice: '', maxPrice: '30', sort: 'relevance', page: 1, after: '', before: '' })
    expect(parseCatalogParams(new URLSearchParams('sort=relevance&after=nope')).sort).toBe('newest')
    expect(parseCatalogParams(new URLSearchParams('after=nope')).after).toBe('')
  })

  it('writes only what differs from the defaults and round-trips', () => {
    const s = { q: 'blue', category: '', minPrice: '5', maxPrice: '', sort: 'price_asc', page: 3, after: '', before: '' }
    expect(toCatalogParams(s).toString()).toBe('q=blue&min_price=5&sort=price_asc&page=3')
    expect(parseCatalogParams(toCatalogParams(s))).toEqual(s)
    expect(toApiQuery(s)).toMatchObject({ q: 'blue', min_price: '5', sort: 'price_asc', page: 3, category: undefined })
    const best = { ...s, sort: 'relevance' }
    expect(toCatalogParams(best).toString()).toBe('q=blue&min_price=5&page=3')
    expect(sortsFor('').map((o) => o.value)).not.toContain('relevance')
    expect(sortsFor('blue')[0].value).toBe('relevance')
  })

  it('goes to the next and previous page from the listings shown, to others by number', () => {
    const id = (n: number) => `0193a1d0-5eed-7000-8000-00000000000${n}`
    const s = { q: '', category: 'Records', minPrice: '', maxPrice: '', sort: 'newest', page: 3, after: id(1), before: '' }
    const shown = { next_after: id(2), prev_before: id(3) }
    expect(toCatalogParams(pageLink(s, 4, shown)).toString()).toBe(`category=Records&page=4&after=${id(2)}`)
    expect(toCatalogParams(pageLink(s, 2, shown)).toString()).toBe(`category=Records&page=2&before=${id(3)}`)
    expect(toCatalogParams(pageLink(s, 1, shown)).toString()).toBe('category=Records')
    expect(toCatalogParams(pageLink(s, 9, shown)).toString()).toBe('category=Records&page=9')
    expect(toApiQuery(pageLink(s, 4, shown))).toMatchObject({ page: 4, after: id(2), before: undefined })
  })

  it('rejects an upside-down or malformed price range', () => {
    expect(priceRangeError('50', '10')).toMatch(/above/)
    expect(priceRangeError('1,5', '')).toMatch(/amounts/)
    expect(priceRangeError('10', '50')).toBeNull()
  })

  it('shows a window of pages with gaps', () => {
    expect(pageWindow(5, 12)).toEqual([1, null, 4, 5, 6, null, 12])
    expect(pageWindow(1, 3)).toEqual([1, 2, 3])
  })

  it('sorts a search by best match and the plain catalog by newest', () => {
    expect(defaultSort('  ')).toBe('newest')
    expect(defaultSort('jazz')).toBe('relevance')
    expect(parseCatalogParams(new URLSearchParams('q=jazz')).sort).toBe('relevance')
    expect(parseCatalogParams(new URLSearchParams('')).sort).toBe('newest')
  })

  it('keeps a search to 200 characters and only one of after and before', () => {
    expect(parseCatalogParams(new URLSearchParams(`q=${'a'.repeat(300)}`)).q).toHaveLength(200)
    const id = '0193a1d0-5eed-7000-8000-000000000001'
    const both = parseCatalogParams(new URLSearchParams(`after=${id}&before=${id}`))
    expect(both.after).toBe(id)
    expect(both.before).toBe('')
    expect(parseCatalogParams(new URLSearchParams(`before=${id}`)).before).toBe(id)
  })

  it('asks the service for a full page, leaving empty filters out', () => {
    const q = toApiQuery(parseCatalogParams(new URLSearchParams('')))
    expect(q).toEqual({
      q: undefined,
      category: undefined,
      min_price: undefined,
      max_price: undefined,
      sort: 'newest',
      page: 1,
      per_page: PER_PAGE,
      after: undefined,
      before: undefined,
    })
  })

  it('counts at least one page', () => {
    expect(pageCount(0, 24)).toBe(1)
    expect(pageCount(24, 24)).toBe(1)
    expect(pageCount(25, 24)).toBe(2)
    expect(pageCount(10, 0)).toBe(10)
  })
})
