import { describe, expect, it } from 'vitest'
import { ApiError } from '../api/client'
import { errorMessage, formatDate } from './format'

describe('error messages', () => {
  it("show the service's message, an error's message, or a general one", () => {
    expect(errorMessage(new ApiError(409, 'conflict', 'That name is taken.'))).toBe('That name is taken.')
    expect(errorMessage(new Error('Cannot reach the shop'))).toBe('Cannot reach the shop')
    expect(errorMessage(new Error(''))).toBe('Something went wrong.')
    expect(errorMessage('a string')).toBe('Something went wrong.')
    expect(errorMessage(undefined)).toBe('Something went wrong.')
  })
})

describe('dates', () => {
  it('are shown in US English with the date and the time', () => {
    // Noon UTC is 2 January in every time zone the test may run in.
    expect(formatDate('2026-01-02T12:04:00Z')).toMatch(/^Jan 2, 2026, \d{1,2}:\d{2}\s[AP]M$/)
  })

  it('are empty when missing and left as they are when unreadable', () => {
    expect(formatDate(null)).toBe('')
    expect(formatDate(undefined)).toBe('')
    expect(formatDate('')).toBe('')
    expect(formatDate('next Tuesday')).toBe('next Tuesday')
  })
})
