/** Money arrives as decimal strings ("24.99"); arithmetic happens in integer cents. */

/** "24.99" -> 2499; "5" -> 500; anything unparseable -> NaN. */
export function toCents(value: string | number): number {
  const text = String(value).trim()
  const match = /^(-?)(\d+)(?:\.(\d{1,2})\d*)?$/.exec(text)
  if (!match) return Number.NaN
  const [, sign, whole, frac = ''] = match
  const cents = Number(whole) * 100 + Number(frac.padEnd(2, '0'))
  return sign ? -cents : cents
}

/** 2499 -> "24.99" (the API's decimal string form). */
export function centsToDecimal(cents: number): string {
  const sign = cents < 0 ? '-' : ''
  const abs = Math.abs(Math.round(cents))
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`
}

const formatter = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' })

/** "24.99" or 2499 cents -> "$24.99". */
export function formatPrice(value: string | number, unit: 'decimal' | 'cents' = 'decimal'): string {
  const cents = unit === 'cents' ? Number(value) : toCents(value)
  if (Number.isNaN(cents)) return '—'
  return formatter.format(cents / 100)
}
