// Closes the run with "N passed, N failed": the line scripts/test-frontend and CI read. A test
// that passed on its retry counts as passed; one that did not run (a serial file stopped at an
// earlier failure, or a project whose dependency failed) counts as failed.
import type { FullResult, Reporter, Suite } from '@playwright/test/reporter'

export default class SummaryReporter implements Reporter {
  private root: Suite | undefined

  onBegin(_config: unknown, suite: Suite) {
    this.root = suite
  }

  onEnd(result: FullResult) {
    const tests = this.root?.allTests() ?? []
    const passed = tests.filter((t) => t.outcome() === 'expected' || t.outcome() === 'flaky').length
    // A run that failed outside any test (global set-up, an interruption) still says so.
    const failed = Math.max(tests.length - passed, result.status === 'passed' ? 0 : 1)
    console.log(`${passed} passed, ${failed} failed`)
  }

  printsToStdio() {
    return false
  }
}
