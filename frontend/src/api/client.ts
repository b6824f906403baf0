/**
 * The one way the SPA talks to the services: same-origin fetch with the HttpOnly session cookies,
 * the shared error body parsed into an ApiError, and one silent token refresh on a 401.
 */

export type FieldErrors = Record<string, string[]>

/** An error the UI can show: the service's code and message, and per-field messages on a 422. */
export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly fields: FieldErrors

  constructor(status: number, code: string, message: string, fields: FieldErrors = {}) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.fields = fields
  }

  /** The first message for a field, if the service sent one. */
  fieldError(field: string): string | undefined {
    return this.fields[field]?.[0]
  }
}

const FALLBACK_MESSAGES: Record<number, string> = {
  400: 'The request was not understood.',
  401: 'Please sign in to continue.',
  403: 'You are not allowed to do that.',
  404: 'We could not find what you were looking for.',
  409: 'That conflicts with the current state. Please reload and try again.',
  412: 'Someone else changed this in the meantime.',
  413: 'That is too large to send.',
  422: 'Some fields need your attention.',
  429: 'Too many attempts. Please wait a moment and try again.',
}

function fallbackMessage(status: number): string {
  if (FALLBACK_MESSAGES[status]) return FALLBACK_MESSAGES[status]
  if (status >= 500) return 'Something went wrong on our side. Please try again in a moment.'
  return `Unexpected response (${status}).`
}

function normaliseFields(raw: unknown): FieldErrors {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return {}
  const out: FieldErrors = {}
  for (const [field, value] of Object.entries(raw as Record<string, unknown>)) {
    if (Array.isArray(value)) {
      const messages = value.filter((m): m is string => typeof m === 'string' && m.length > 0)
      if (messages.length) out[field] = messages
    } else if (typeof value === 'string' && value.length > 0) {
      out[field] = [value]
    }
  }
  return out
}

/**
 * Turns a failed response's status and body text into an ApiError. Accepts the shared
 * `{"error":{"code","message","fields"}}` body and degrades to a readable message for anything
 * else (an nginx HTML error page, an empty body).
 */
export function parseErrorBody(status: number, text: string): ApiError {
  let code = `http_${status}`
  let message = fallbackMessage(status)
  let fields: FieldErrors = {}
  try {
    const body: unknown = JSON.parse(text)
    const error = (body as { error?: unknown })?.error
    if (error && typeof error === 'object') {
      const e = error as { code?: unknown; message?: unknown; fields?: unknown }
      if (typeof e.code === 'string' && e.code) code = e.code
      if (typeof e.message === 'string' && e.message) message = e.message
      fields = normaliseFields(e.fields)
    }
  } catch {
    // Not JSON: keep the fallback message.
  }
  return new ApiError(status, code, message, fields)
}

export interface RequestOptions {
  body?: unknown
  headers?: Record<string, string>
  /** Query parameters; undefined, null and empty values are left out. */
  query?: Record<string, string | number | boolean | undefined | null>
  signal?: AbortSignal
}

export interface ClientConfig {
  fetch?: typeof fetch
  /** Called when a session could not be refreshed: the user must sign in again. */
  onSessionLost?: () => void
}

const REFRESH_PATH = '/api/auth/refresh'
/** Calls whose 401 means "wrong credentials" or "no session", never "refresh and retry". */
const NO_REFRESH = ['/api/auth/login', '/api/auth/signup', '/api/auth/refresh', '/api/auth/logout', '/api/auth/demo-login']

export function buildUrl(path: string, query?: RequestOptions['query']): string {
  if (!query) return path
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') continue
    params.set(key, String(value))
  }
  const qs = params.toString()
  return qs ? `${path}?${qs}` : path
}

export interface ApiClient {
  request<T>(method: string, path: string, options?: RequestOptions): Promise<T>
  /** Refreshes the session (shared by concurrent callers); true when it worked. */
  refresh(): Promise<boolean>
  setOnSessionLost(callback: (() => void) | undefined): void
}

export function createClient(config: ClientConfig = {}): ApiClient {
  const doFetch = config.fetch ?? ((input, init) => fetch(input, init))
  let onSessionLost = config.onSessionLost
  let refreshing: Promise<boolean> | null = null

  async function send(method: string, url: string, options: RequestOptions): Promise<Response> {
    const headers: Record<string, string> = { Accept: 'application/json', ...options.headers }
    let body: string | undefined
    if (options.body !== undefined) {
      headers['Content-Type'] = 'application/json'
      body = JSON.stringify(options.body)
    }
    try {
      return await doFetch(url, { method, headers, body, credentials: 'same-origin', signal: options.signal })
    } catch (cause) {
      if ((cause as Error)?.name === 'AbortError') throw cause
      throw new ApiError(0, 'network_error', 'Cannot reach the shop right now. Check your connection and try again.')
    }
  }

  function refresh(): Promise<boolean> {
    if (!refreshing) {
      refreshing = (async () => {
        try {
          const res = await doFetch(REFRESH_PATH, {
            method: 'POST',
            headers: { Accept: 'application/json' },
            credentials: 'same-origin',
          })
          return res.ok
        } catch {
          return false
        }
      })().finally(() => {
        refreshing = null
      })
    }
    return refreshing
  }

  async function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const url = buildUrl(path, options.query)
    let res = await send(method, url, options)
    if (res.status === 401 && !NO_REFRESH.includes(path)) {
      if (await refresh()) res = await send(method, url, options)
      if (res.status === 401) onSessionLost?.()
    }
    if (!res.ok) throw parseErrorBody(res.status, await res.text().catch(() => ''))
    if (res.status === 204) return undefined as T
    const text = await res.text()
    return (text ? JSON.parse(text) : undefined) as T
  }

  return {
    request,
    refresh,
    setOnSessionLost(callback) {
      onSessionLost = callback
    },
  }
}

/** The client the app uses. */
export const client = createClient()
