/** Runs a hook inside a real React root (in a DOM test environment), for the hooks' unit tests. */
import { act, createElement } from 'react'
import { createRoot } from 'react-dom/client'

// Tells React that updates are wrapped in act(), so it flushes them before act returns.
;(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true

export function renderHook<R, P = undefined>(hook: (props: P) => R, initialProps?: NoInfer<P>) {
  const result = { current: undefined as R }
  function Probe({ props }: { props: P }) {
    result.current = hook(props)
    return null
  }
  const root = createRoot(document.createElement('div'))
  act(() => root.render(createElement(Probe, { props: initialProps as P })))
  return {
    result,
    rerender: (props: P) => act(() => root.render(createElement(Probe, { props }))),
    unmount: () => act(() => root.unmount()),
  }
}
