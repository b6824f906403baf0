import { describe, expect, it } from 'vitest'
import { centsToDecimal, formatPrice, toCents } from './money'

describe('money', () => {
  it('parses decimal strings to cents and formats them', () => {
    expect(toCents('24.99')).toBe(2499)
    expect(toCents('5')).toBe(500)
    expect(toCents('0.5')).toBe(50)
    expect(toCents('x')).toBeNaN()
    expect(centsToDecimal(2499)).toBe('24.99')
    expect(formatPrice('1234.5')).toBe('$1,234.50')
    expect(formatPrice(50, 'cents')).toBe('$0.50')
  })

  it('keeps signs, drops digits past the cents, and rounds fractions of a cent', () => {
    expect(toCents('-3.5')).toBe(-350)
    expect(toCents(' 7.019 ')).toBe(701)
    expect(toCents(12)).toBe(1200)
    expect(toCents('1e3')).toBeNaN()
    expect(centsToDecimal(-5)).toBe('-0.05')
    expect(centsToDecimal(100.6)).toBe('1.01')
  })

  it('shows a dash for an amount it cannot read', () => {
    expect(formatPrice('abc')).toBe('—')
    expect(formatPrice('0')).toBe('$0.00')
  })
})
