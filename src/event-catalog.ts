// Every event type the application writes, from every bounded context. The registry built here
// validates payloads on append and upcasts old versions on read.
import { EventTypeRegistry, type EventTypeDefinition } from './ledger/event-types.js';
import { signingEvents } from './signing/events.js';

const catalog: EventTypeDefinition<any>[] = [...signingEvents];

export function buildEventRegistry(): EventTypeRegistry {
  return new EventTypeRegistry(false).register(...catalog);
}
