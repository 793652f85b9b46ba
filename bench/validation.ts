// Per-event payload validation cost: the fixture log of the read-model tests (every event type a
// saga writes, flags, engine changes) validated through the event catalog's registry, as an
// append does, and upcast + checked as a read does. Prints figures; asserts nothing.
// `node --import ./test/support/ts-loader.mjs bench/validation.ts [--rounds=N]`
import { parseArgs } from 'node:util';
import { buildEventRegistry } from '../src/event-catalog.js';
import { recorded, standardLog } from '../test/unit/projections/fixtures.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '200' } } });
const rounds = Number(values.rounds);
const registry = buildEventRegistry();
const entries = standardLog();
const events = entries.map((e) => e.event);
const stored = recorded(entries);

function perEventMicros(fn: () => void, n: number): number {
  for (let i = 0; i < 20; i++) fn(); // warm up
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) fn();
  return Number(process.hrtime.bigint() - t0) / 1000 / (rounds * n);
}

const append = perEventMicros(() => {
  for (const e of events) registry.validate(e);
}, events.length);
const read = perEventMicros(() => {
  for (const e of stored) registry.upcast(e);
}, stored.length);
console.log(`validation: ${events.length} fixture events × ${rounds} rounds`);
console.log(`  append (registry.validate): ${append.toFixed(2)} µs per event`);
console.log(`  read (registry.upcast):     ${read.toFixed(2)} µs per event`);
