/** A product's picture, or a quiet illustrated placeholder when there is none (or it fails to load). */
import { useState } from 'react'

const TONES = [
  ['#e8efe9', '#5d7f6e'],
  ['#efe9e1', '#8a6d4b'],
  ['#e6ebf1', '#56708f'],
  ['#f0e7e9', '#8c5866'],
  ['#ebe8f0', '#6c6190'],
  ['#e9eeee', '#4f7a7c'],
] as const

function hash(text: string): number {
  let h = 2166136261
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 16777619)
  }
  return h >>> 0
}

type Motif = 'record' | 'book' | 'camera' | 'instrument' | 'audio' | 'pen' | 'generic'

function motifFor(category: string): Motif {
  const c = category.toLowerCase()
  if (/(record|vinyl|album|\blp\b)/.test(c)) return 'record'
  if (/(book|novel|comic|magazine)/.test(c)) return 'book'
  if (/(camera|photo|film|lens)/.test(c)) return 'camera'
  if (/(instrument|guitar|music|synth|piano)/.test(c)) return 'instrument'
  if (/(audio|hi-?fi|headphone|speaker|sound)/.test(c)) return 'audio'
  if (/(stationery|pen|paper|notebook|office|art)/.test(c)) return 'pen'
  return 'generic'
}

function MotifShape({ motif, ink }: { motif: Motif; ink: string }) {
  switch (motif) {
    case 'record':
      return (
        <g fill="none" stroke={ink} strokeWidth="2.2" opacity="0.85">
          <circle cx="60" cy="45" r="26" />
          <circle cx="60" cy="45" r="18" opacity="0.5" />
          <circle cx="60" cy="45" r="8" fill={ink} fillOpacity="0.25" />
          <circle cx="60" cy="45" r="1.6" fill={ink} />
        </g>
      )
    case 'book':
      return (
        <g fill="none" stroke={ink} strokeWidth="2.2" strokeLinejoin="round" opacity="0.85">
          <path d="M36 24h20a6 6 0 0 1 6 6v38a5 5 0 0 0-5-5H36z" />
          <path d="M84 24H64a6 6 0 0 0-6 6v38a5 5 0 0 1 5-5h21z" />
        </g>
      )
    case 'instrument':
      return (
        <g fill="none" stroke={ink} strokeWidth="2.2" strokeLinejoin="round" strokeLinecap="round" opacity="0.85">
          <path d="M52 62V30l28-7v32" />
          <path d="M52 38l28-7" />
          <ellipse cx="45.5" cy="62" rx="6.5" ry="5" fill={ink} fillOpacity="0.2" />
          <ellipse cx="73.5" cy="55" rx="6.5" ry="5" fill={ink} fillOpacity="0.2" />
        </g>
      )
    case 'audio':
      return (
        <g fill="none" stroke={ink} strokeWidth="2.2" strokeLinejoin="round" strokeLinecap="round" opacity="0.85">
          <path d="M38 56v-9a22 22 0 0 1 44 0v9" />
          <rect x="33" y="50" width="11" height="18" rx="4" fill={ink} fillOpacity="0.2" />
          <rect x="76" y="50" width="11" height="18" rx="4" fill={ink} fillOpacity="0.2" />
        </g>
      )
    case 'pen':
      return (
        <g fill="none" stroke={ink} strokeWidth="2.2" strokeLinejoin="round" strokeLinecap="round" opacity="0.85">
          <path d="M42 66l3-11 30-30 8 8-30 30z" />
          <path d="M70 30l8 8M45 55l8 8" />
          <path d="M62 68h18" opacity="0.6" />
        </g>
      )
    case 'camera':
      return (
        <g fill="none" stroke={ink} strokeWidth="2.2" strokeLinejoin="round" opacity="0.85">
          <rect x="34" y="28" width="52" height="34" rx="6" />
          <circle cx="60" cy="45" r="10" />
          <path d="M46 28l4-6h20l4 6" />
        </g>
      )
    default:
      return (
        <g fill="none" stroke={ink} strokeWidth="2.2" strokeLinejoin="round" opacity="0.85">
          <path d="M38 36l22-11 22 11v22L60 69 38 58z" />
          <path d="M38 36l22 11 22-11M60 47v22" />
        </g>
      )
  }
}

export function Placeholder({ seed, category }: { seed: string; category: string }) {
  const [bg, ink] = TONES[hash(seed) % TONES.length]
  return (
    <svg className="product-image__svg" viewBox="0 0 120 90" preserveAspectRatio="xMidYMid slice" aria-hidden="true" focusable="false">
      <rect width="120" height="90" fill={bg} />
      <circle cx="104" cy="10" r="26" fill={ink} opacity="0.06" />
      <circle cx="12" cy="86" r="20" fill={ink} opacity="0.05" />
      <MotifShape motif={motifFor(category)} ink={ink} />
    </svg>
  )
}

export function ProductImage({ src, name, category, seed }: { src: string | null; name: string; category: string; seed: string }) {
  const [failed, setFailed] = useState(false)
  return (
    <div className="product-image">
      {src && !failed ? (
        <img src={src} alt={name} loading="lazy" referrerPolicy="no-referrer" onError={() => setFailed(true)} />
      ) : (
        <Placeholder seed={seed} category={category} />
      )}
    </div>
  )
}
