/**
 * `npm run bench -- <suite> [--quick]`. Suites: `runtime`, `allocator`, `offers`, `scale`. Never part of `npm test`.
 */
import { allocatorSuite } from './allocator.ts';
import { offersSuite } from './offers.ts';
import { runtimeSuite } from './runtime.ts';
import { scaleSuite } from './scale.ts';

const suites: Record<string, (options: { quick: boolean }) => Promise<void>> = {
  runtime: runtimeSuite,
  allocator: allocatorSuite,
  offers: offersSuite,
  scale: scaleSuite,
};

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const names = args.filter((a) => !a.startsWith('--'));
if (names.length === 0 || names.some((n) => !(n in suites))) {
  console.error(`usage: npm run bench -- <${Object.keys(suites).join('|')}> [--quick]`);
  process.exit(2);
}
for (const name of names) await suites[name]!({ quick });
process.exit(0);
