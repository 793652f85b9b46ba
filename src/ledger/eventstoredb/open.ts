// Opens the EventStoreDB adapter (see eventstoredb-event-store.ts).
import type { EventTypeRegistry } from '../event-types.js';
import type { EventStore } from '../event-store.port.js';

export async function openEventStoreDb(url: string, registry: EventTypeRegistry): Promise<EventStore> {
  const { EventStoreDbEventStore } = await import('./eventstoredb-event-store.js');
  return EventStoreDbEventStore.connect(url, registry);
}
