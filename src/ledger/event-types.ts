// The registry of event types: name, schema version, payload schema (zod, declared once in the
// owning context's events.ts; the payload's TypeScript type is inferred from it), and upcasters
// that lift old versions to the current one on read (old events are never rewritten in the store,
// and their hashes stay over what was stored). Payloads are checked on append and, after
// upcasting, on read.
import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import type { EventMetadata, NewEvent, RecordedEvent } from './envelope.js';
import { InvalidEventError } from './errors.js';
import { schemaProblems, storableJsonProblems } from './schema.js';

export interface EventTypeDefinition<P = unknown> {
  type: string;
  version: number;
  /** The current version's payload schema. */
  payload: z.ZodType;
  /** upcasters[v] turns a version-v payload into version v+1 (a pure function of the stored payload and envelope). */
  upcasters?: Record<number, (payload: any, event: RecordedEvent) => unknown>;
  /** Phantom field carrying the payload type for `newEvent`. */
  readonly _payload?: P;
}

/** The payload type of an event definition. */
export type PayloadOf<D> = D extends EventTypeDefinition<infer P> ? P : never;

/** Declares an event type; its payload type is the schema's output type. */
export function defineEvent<S extends z.ZodType>(def: {
  type: string;
  version: number;
  payload: S;
  upcasters?: EventTypeDefinition['upcasters'];
}): EventTypeDefinition<z.output<S>> {
  return def as EventTypeDefinition<z.output<S>>;
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
      schemaProblems(def.payload, e.payload, 'payload', problems);
    }
    if (problems.length) throw new InvalidEventError(`${e.type} ${e.id}: ${problems.join('; ')}`);
  }

  /**
   * Lifts a stored event to its type's current schema version and checks the result against the
   * current schema (an event the store hands out always fits its type). The stored event is not
   * changed: its hashes stay over what was written.
   */
  upcast<P>(e: RecordedEvent): RecordedEvent<P> {
    const def = this.defs.get(e.type);
    if (!def) return e as RecordedEvent<P>;
    // Written by a newer build (a rolling upgrade): handed out as stored, not judged by an older schema.
    if (e.version > def.version) return e as RecordedEvent<P>;
    let payload = e.payload;
    for (let v = e.version; v < def.version; v++) {
      const up = def.upcasters?.[v];
      if (!up) throw new InvalidEventError(`${e.type} has no upcaster from version ${v}`);
      payload = up(payload, e);
    }
    const problems = schemaProblems(def.payload, payload);
    if (problems.length) throw new InvalidEventError(`${e.type} ${e.id} as read (version ${e.version}): ${problems.join('; ')}`);
    return (e.version === def.version ? e : { ...e, payload, version: def.version }) as RecordedEvent<P>;
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
