import { describe, expect, it } from 'vitest'
import { safeNext } from './navigation'

describe('after login', () => {
  it('follows only same-site paths', () => {
    expect(safeNext('/orders/1')).toBe('/orders/1')
    expect(safeNext('https://evil.example')).toBe('/')
    expect(safeNext('//evil.example')).toBe('/')
    expect(safeNext('/login')).toBe('/')
    expect(safeNext(null)).toBe('/')
  })

  it('never goes back to the login or sign-up page, nor through a backslash', () => {
    expect(safeNext('/signup?next=/x')).toBe('/')
    expect(safeNext('/\\evil.example')).toBe('/')
    expect(safeNext('orders')).toBe('/')
    expect(safeNext('')).toBe('/')
    expect(safeNext('/sell/new?draft=1')).toBe('/sell/new?draft=1')
  })
})
