// The registry of event types: name, schema version, payload validator, and upcasters that lift
// old versions to the current one on read (old events are never rewritten in the store).
import { randomUUID } from 'node:crypto';
import type { EventMetadata, NewEvent, RecordedEvent } from './envelope.js';
import { InvalidEventError } from './errors.js';
import { storableJsonProblems, type Check } from './schema.js';

export interface EventTypeDefinition<P = unknown> {
  type: string;
  version: number;
  payload: Check;
  /** upcasters[v] turns a version-v payload into version v+1. */
  upcasters?: Record<number, (payload: any) => unknown>;
  /** Phantom field carrying the payload type for `newEvent`. */
  readonly _payload?: P;
}

export function defineEvent<P>(def: Omit<EventTypeDefinition<P>, '_payload'>): EventTypeDefinition<P> {
  return def as EventTypeDefinition<P>;
}

export class EventTypeRegistry {
  private readonly defs = new Map<string, EventTypeDefinition>();

  constructor(
    /** When true, types that were never registered are accepted (payload still must be storable JSON). */
    private readonly allowUnregistered = false,
  ) {}

  register(...defs: EventTypeDefinition<any>[]): this {
    for (const d of defs) {
      const existing = this.defs.get(d.type);
      if (existing && existing !== d) throw new Error(`event type ${d.type} is registered twice`);
      this.defs.set(d.type, d);
    }
    return this;
  }

  get(type: string): EventTypeDefinition | undefined {
    return this.defs.get(type);
  }

  types(): string[] {
    return [...this.defs.keys()].sort();
  }

  /** Throws InvalidEventError naming every problem with the event. */
  validate(e: NewEvent): void {
    const problems = storableJsonProblems(e.payload);
    const def = this.defs.get(e.type);
    if (!def) {
      if (!this.allowUnregistered) problems.push(`unknown event type "${e.type}"`);
    } else {
      if (e.version !== def.version) problems.push(`${e.type} must be written at schema version ${def.version}, not ${e.version}`);
      def.payload(e.payload, 'payload', problems);
    }
    if (problems.length) throw new InvalidEventError(`${e.type} ${e.id}: ${problems.join('; ')}`);
  }

  /** Lifts a stored event to its type's current schema version. */
  upcast<P>(e: RecordedEvent): RecordedEvent<P> {
    const def = this.defs.get(e.type);
    if (!def || e.version >= def.version) return e as RecordedEvent<P>;
    let payload = e.payload;
    for (let v = e.version; v < def.version; v++) {
      const up = def.upcasters?.[v];
      if (!up) throw new InvalidEventError(`${e.type} has no upcaster from version ${v}`);
      payload = up(payload);
    }
    return { ...e, payload, version: def.version } as RecordedEvent<P>;
  }
}

/** Makes a new event with a client-generated id and the current time. */
export function newEvent<P>(
  def: EventTypeDefinition<P>,
  payload: P,
  metadata: EventMetadata,
  opts: { id?: string; recordedAt?: string } = {},
): NewEvent<P> {
  return {
    id: opts.id ?? randomUUID(),
    type: def.type,
    version: def.version,
    payload,
    metadata,
    recordedAt: opts.recordedAt ?? new Date().toISOString(),
  };
}
