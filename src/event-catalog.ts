// Every event type the application writes, from every bounded context. The registry built here
// validates payloads on append and upcasts old versions on read.
import { auditEvents } from './audit/events.js';
import { complianceEvents } from './compliance/events.js';
import { executionEvents, reconciliationEvents } from './execution/events.js';
import { EventTypeRegistry, type EventTypeDefinition } from './ledger/event-types.js';
import { marketEvents } from './market/events.js';
import { apiKeyEvents } from './api/auth/events.js';
import { projectionEvents } from './projections/events.js';
import { notificationsEvents } from './notifications/events.js';
import { riskEvents } from './risk/events.js';
import { sealingEvents } from './ledger/sealing/seal.js';
import { leadershipEvents } from './ledger/leadership/events.js';
import { signingEvents } from './signing/events.js';
import { tradingEvents } from './trading/events.js';

export const eventCatalog: EventTypeDefinition<any>[] = [
  ...marketEvents,
  ...riskEvents,
  ...complianceEvents,
  ...signingEvents,
  ...executionEvents,
  ...reconciliationEvents,
  ...tradingEvents,
  ...projectionEvents,
  ...apiKeyEvents,
  ...auditEvents,
  ...sealingEvents,
  ...leadershipEvents,
  ...notificationsEvents,
];

export function buildEventRegistry(): EventTypeRegistry {
  return new EventTypeRegistry(false).register(...eventCatalog);
}
