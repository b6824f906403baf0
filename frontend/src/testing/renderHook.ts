/** Runs a hook inside a real React root (in a DOM test environment), for the hooks' unit tests. */
import { act, createElement, type ComponentType, type ReactNode } from 'react'
import { createRoot } from 'react-dom/client'

// Tells React that updates are wrapped in act(), so it flushes them before act returns.
;(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true

export function renderHook<R, P = undefined>(
  hook: (props: P) => R,
  initialProps?: NoInfer<P>,
  { wrapper }: { wrapper?: ComponentType<{ children: ReactNode }> } = {},
) {
  const result = { current: undefined as R }
  function Probe({ props }: { props: P }) {
    result.current = hook(props)
    return null
  }
  const tree = (props: P) => (wrapper ? createElement(wrapper, null, createElement(Probe, { props })) : createElement(Probe, { props }))
  const root = createRoot(document.createElement('div'))
  act(() => root.render(tree(initialProps as P)))
  return {
    result,
    rerender: (props: P) => act(() => root.render(tree(props))),
    unmount: () => act(() => root.unmount()),
  }
}
