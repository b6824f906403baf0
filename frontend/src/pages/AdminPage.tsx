/** Admin: the health of every event stream and consumer group, and the dead letters with replay. */
import { useState } from 'react'
import { admin } from '../api/endpoints'
import type { DeadLetter, StreamHealth } from '../api/types'
import { EmptyState, ErrorNotice, Notice, Spinner } from '../components/ui'
import { formatDate } from '../lib/format'
import { useAsync } from '../state/useAsync'

/** Accepts a bare array or an object wrapping one (`{items}`, `{streams}`, `{dead_letters}`). */
function asList<T>(body: unknown, ...keys: string[]): T[] {
  if (Array.isArray(body)) return body as T[]
  if (body && typeof body === 'object') {
    for (const key of ['items', ...keys]) {
      const v = (body as Record<string, unknown>)[key]
      if (Array.isArray(v)) return v as T[]
    }
  }
  return []
}

function isDeadLetterStream(name: string): boolean {
  return /dead/i.test(name)
}

function DeadLetterRow({ letter, onReplayed }: { letter: DeadLetter; onReplayed: () => void }) {
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(null)
  const [open, setOpen] = useState(false)
  const replay = async () => {
    setBusy(true)
    setError(null)
    try {
      await admin.replay(letter.id)
      onReplayed()
    } catch (err) {
      setError(err)
    } finally {
      setBusy(false)
    }
  }
  return (
    <li className="card dead-letter" data-testid="dead-letter">
      <div className="dead-letter__head">
        <div>
          <strong className="mono">{letter.event_type}</strong>
          <span className="small muted">
            {' '}
            from {letter.origin_stream} · group {letter.group} · {letter.attempts} {letter.attempts === 1 ? 'attempt' : 'attempts'} · {formatDate(letter.failed_at)}
          </span>
        </div>
        <div className="button-row">
          <button type="button" className="btn btn--ghost btn--small" aria-expanded={open} onClick={() => setOpen((o) => !o)}>
            {open ? 'Hide details' : 'Details'}
          </button>
          <button type="button" className="btn btn--primary btn--small" onClick={replay} disabled={busy}>
            {busy ? 'Replaying…' : 'Replay'}
          </button>
        </div>
      </div>
      <p className="dead-letter__error">{letter.error}</p>
      {open && (
        <dl className="kv small">
          <dt>Event id</dt>
          <dd className="mono">{letter.event_id}</dd>
          <dt>Dead-letter id</dt>
          <dd className="mono">{letter.id}</dd>
          <dt>Original entry</dt>
          <dd className="mono">{letter.origin_id}</dd>
          {letter.fields &&
            Object.entries(letter.fields).map(([k, v]) => (
              <div key={k} className="kv__pair">
                <dt>{k}</dt>
                <dd className="mono wrap">{typeof v === 'string' ? v : JSON.stringify(v)}</dd>
              </div>
            ))}
        </dl>
      )}
      {error !== null && <ErrorNotice error={error} title="Replay failed." />}
    </li>
  )
}

export function AdminPage() {
  const streams = useAsync(async (signal) => asList<StreamHealth>(await admin.streams(signal), 'streams'), [])
  const letters = useAsync(async (signal) => asList<DeadLetter>(await admin.deadLetters(signal), 'dead_letters'), [])
  const [replayed, setReplayed] = useState(0)

  const refresh = () => {
    streams.reload()
    letters.reload()
  }
  const deadCount = letters.data?.length ?? streams.data?.find((s) => isDeadLetterStream(s.stream))?.length

  return (
    <div className="page page--wide">
      <div className="page-head">
        <h1>Event streams</h1>
        <button type="button" className="btn btn--ghost" onClick={refresh}>
          Refresh
        </button>
      </div>

      <section aria-labelledby="health-heading">
        <h2 id="health-heading">Stream health</h2>
        {streams.status === 'error' && <ErrorNotice error={streams.error} onRetry={streams.reload} title="Stream health could not be loaded." />}
        {streams.status === 'loading' && !streams.data && <Spinner label="Loading stream health…" />}
        {streams.data && (
          <div className="stream-grid">
            {streams.data.map((s) => (
              <article key={s.stream} className="card stream-card" data-testid="stream-card">
                <header>
                  <h3 className="mono">{s.stream}</h3>
                  <span className="small muted">{s.length.toLocaleString('en-US')} entries</span>
                </header>
                {s.groups.length === 0 ? (
                  <p className="small muted">{isDeadLetterStream(s.stream) ? 'Dead letters wait here for a replay.' : 'No consumer groups.'}</p>
                ) : (
                  <table className="table table--compact">
                    <thead>
                      <tr>
                        <th scope="col">Group</th>
                        <th scope="col" className="num">Consumers</th>
                        <th scope="col" className="num">Pending</th>
                        <th scope="col" className="num">Lag</th>
                      </tr>
                    </thead>
                    <tbody>
                      {s.groups.map((g) => (
                        <tr key={g.name}>
                          <td className="mono">{g.name}</td>
                          <td className="num">{g.consumers}</td>
                          <td className={`num${g.pending > 0 ? ' warn' : ''}`}>{g.pending}</td>
                          <td className={`num${(g.lag ?? 0) > 0 ? ' warn' : ''}`}>{g.lag ?? '—'}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                )}
              </article>
            ))}
          </div>
        )}
      </section>

      <section aria-labelledby="dead-heading" className="section">
        <h2 id="dead-heading">
          Dead letters {deadCount !== undefined && <span className="count">{deadCount}</span>}
        </h2>
        {replayed > 0 && <Notice tone="success">Replayed {replayed === 1 ? 'one event' : `${replayed} events`}; it is back on its stream.</Notice>}
        {letters.status === 'error' && <ErrorNotice error={letters.error} onRetry={letters.reload} title="Dead letters could not be loaded." />}
        {letters.status === 'loading' && !letters.data && <Spinner label="Loading dead letters…" />}
        {letters.data && letters.data.length === 0 && (
          <EmptyState title="No dead letters">
            <p>Every event was handled.</p>
          </EmptyState>
        )}
        {letters.data && letters.data.length > 0 && (
          <ul className="dead-letters">
            {letters.data.map((l) => (
              <DeadLetterRow
                key={l.id}
                letter={l}
                onReplayed={() => {
                  setReplayed((n) => n + 1)
                  refresh()
                }}
              />
            ))}
          </ul>
        )}
      </section>
    </div>
  )
}
