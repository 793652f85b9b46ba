// Events for tests: a permissive registry plus one strictly typed event.
import { randomUUID } from 'node:crypto';
import type { NewEvent } from '../../src/ledger/envelope.js';
import { defineEvent, EventTypeRegistry } from '../../src/ledger/event-types.js';
import { baseUnits, obj, str } from '../../src/ledger/schema.js';

export const TestAmountRecorded = defineEvent({
  type: 'TestAmountRecorded',
  version: 1,
  payload: obj({ mint: str({ min: 1 }), amount: baseUnits() }),
});

export function testRegistry(): EventTypeRegistry {
  return new EventTypeRegistry(true).register(TestAmountRecorded);
}

export function ev(type = 'TestHappened', payload: unknown = { n: 1 }, id = randomUUID()): NewEvent {
  return {
    id,
    type,
    version: 1,
    payload,
    recordedAt: new Date().toISOString(),
    metadata: { correlationId: 'corr-1', causationId: null, actor: 'test', tenant: 'default' },
  };
}
