import type { TestFn } from 'ava';
import { resetFilters } from '../../src/process/filter.ts';

export { futureMessage, futureMessages, dropMessage, dropMessages, futureExited } from '../../src/process/filter.ts';

/** Resets every message filter after each test of the file (as Mesos's test fixture does). */
export function resetFiltersAfterEach(test: TestFn<any>): void {
  test.afterEach.always(() => resetFilters());
}
