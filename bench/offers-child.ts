/**
 * One measurement of the `offers` suite in an OS process of its own:
 * `node --import tsx bench/offers-child.ts '<job JSON>'` runs the job (`OffersJob` in
 * `offers.ts`) and prints its result as the last line of stdout, `RESULT <JSON>`.
 *
 * Why a process per measurement: runs made one after the other in one process disturbed each
 * other (the same 1k × 10 `accept` on `local` measured 17,000 offers/s inside a full suite and
 * 30,000 to 36,000 in fresh processes; the heap and the compiled code that earlier scenarios
 * leave behind are not this scenario's).
 */
import { runJob, type OffersJob } from './offers.ts';

const [text] = process.argv.slice(2);
if (text === undefined) {
  console.error("usage: offers-child.ts '<job JSON>'");
  process.exit(2);
}
const result = await runJob(JSON.parse(text) as OffersJob);
// Exit once the line is written: stdout to a pipe is asynchronous.
process.stdout.write(`RESULT ${JSON.stringify(result)}\n`, () => process.exit(0));
