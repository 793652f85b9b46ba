// Validates payloads exactly as the event store will: through an EventTypeRegistry holding the
// context's event definitions.
import { EventTypeRegistry, newEvent, type EventTypeDefinition } from '../../src/ledger/event-types.js';

const meta = { correlationId: 'corr-1', causationId: null, actor: 'test', tenant: 'default' };

export function expectStorable<P>(registry: EventTypeRegistry, def: EventTypeDefinition<P>, payload: P): void {
  // JSON round trip first: what is stored is what JSON can carry.
  const roundTripped = JSON.parse(JSON.stringify(payload)) as P;
  registry.validate(newEvent(def, payload, meta));
  registry.validate(newEvent(def, roundTripped, meta));
}

export function validationError<P>(registry: EventTypeRegistry, def: EventTypeDefinition<P>, payload: unknown): string {
  try {
    registry.validate(newEvent(def, payload as P, meta));
  } catch (e) {
    return (e as Error).message;
  }
  return '';
}

export function registryOf(...defs: EventTypeDefinition<any>[]): EventTypeRegistry {
  return new EventTypeRegistry(false).register(...defs);
}
