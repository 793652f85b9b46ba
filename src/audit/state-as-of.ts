// State as of a position, folded with the owning contexts' own pure folds: the engine's trading
// state (risk's `evolve`, the same fold the engine runs on) and one saga's phase and data
// (trading's `foldSaga`). An auditor gets exactly what the code would have held then, because it
// is the same code over the same events cut at the same position. Limits before any
// RiskLimitsChanged are the configured ones (an input: they are not in the log).
import type { RecordedEvent } from '../ledger/envelope.js';
import type { EventStore } from '../ledger/event-store.port.js';
import { ENGINE_STATE_EVENT_TYPES } from '../risk/engine-state.service.js';
import { evolve, initialEngineState, type EngineState } from '../risk/engine-state.js';
import { ENGINE_STREAM_ID } from '../risk/events.js';
import type { RiskLimits } from '../risk/limits.js';
import { sagaStreamId } from '../trading/events.js';
import { foldSaga, type SagaState } from '../trading/saga.js';

const PAGE = 5000;

/**
 * Engine states folded earlier, by the position they hold: the log below a position never changes
 * (the events table is append-only), so a fold up to P is a valid start for any later question at
 * P or after. Filled as a side effect of folding (one state every `everyEvents` engine events),
 * bounded to `max` states (the ones nearest the positions asked lately are kept), per process.
 */
export class EngineFoldCheckpoints {
  private readonly states = new Map<bigint, EngineState>();
  private limits: RiskLimits | null = null;

  constructor(
    readonly everyEvents = 50_000,
    private readonly max = 64,
  ) {}

  get size(): number {
    return this.states.size;
  }

  /** The latest state at or before `position` folded from `configuredLimits`, if any. */
  nearest(position: bigint, configuredLimits: RiskLimits): { position: bigint; state: EngineState } | null {
    if (this.limits !== configuredLimits) return null;
    let best: bigint | null = null;
    for (const p of this.states.keys()) if (p <= position && (best === null || p > best)) best = p;
    if (best === null) return null;
    const state = this.states.get(best)!;
    // Used: move it to the back of the eviction order.
    this.states.delete(best);
    this.states.set(best, state);
    return { position: best, state };
  }

  offer(position: bigint, state: EngineState, configuredLimits: RiskLimits): void {
    if (this.limits !== configuredLimits) {
      this.states.clear();
      this.limits = configuredLimits;
    }
    this.states.set(position, state);
    while (this.states.size > this.max) this.states.delete(this.states.keys().next().value!);
  }
}

/**
 * Folds the engine's state from the log's start up to and including `position` (from the nearest
 * checkpoint at or before it, when `checkpoints` holds one). `eventsFolded` counts the events this
 * call folded; `from` is the position it started after.
 */
export async function engineStateAsOf(
  store: EventStore,
  position: bigint,
  configuredLimits: RiskLimits,
  checkpoints?: EngineFoldCheckpoints,
): Promise<{ state: EngineState; eventsFolded: number; from: bigint }> {
  const start = checkpoints?.nearest(position, configuredLimits);
  let state = start?.state ?? initialEngineState(configuredLimits);
  const from = start?.position ?? 0n;
  let after = from;
  let folded = 0;
  for (;;) {
    const page = await store.readAll({ after, maxCount: PAGE, filter: { eventTypes: ENGINE_STATE_EVENT_TYPES } });
    for (const e of page) {
      if (e.position > position) return { state, eventsFolded: folded, from };
      state = evolve(state, e);
      folded++;
      if (checkpoints && folded % checkpoints.everyEvents === 0) checkpoints.offer(e.position, state, configuredLimits);
    }
    if (page.length < PAGE) return { state, eventsFolded: folded, from };
    after = page[page.length - 1].position;
  }
}

/** The engine stream's events up to `position`: limits changes, pauses, resumes. Small, unlike the full fold. */
export async function engineStreamAsOf(store: EventStore, position: bigint): Promise<RecordedEvent[]> {
  const out: RecordedEvent[] = [];
  let from = 0n;
  for (;;) {
    const page = await store.readStream(ENGINE_STREAM_ID, { fromRevision: from, maxCount: PAGE });
    for (const e of page) {
      if (e.position > position) return out;
      out.push(e);
    }
    if (page.length < PAGE) return out;
    from = page[page.length - 1].revision + 1n;
  }
}

/**
 * One saga's state as of `position`; null when its stream had no event yet. A stored stream the
 * saga's state machine refuses (an impossible transition) is an audit finding, not a crash: the
 * state is the fold up to the event before it, and `anomaly` says what was refused.
 */
export async function sagaStateAsOf(
  store: EventStore,
  opportunityId: string,
  position: bigint,
): Promise<{ state: SagaState; events: RecordedEvent[]; anomaly: string | null } | null> {
  const events = (await store.readStream(sagaStreamId(opportunityId), { maxCount: 10_000 })).filter((e) => e.position <= position);
  if (!events.length) return null;
  try {
    return { state: foldSaga(opportunityId, events), events, anomaly: null };
  } catch (err) {
    // Bounded by the stream's length: the longest prefix the state machine accepts.
    for (let k = events.length - 1; k >= 0; k--) {
      try {
        return { state: foldSaga(opportunityId, events.slice(0, k)), events: events.slice(0, k), anomaly: (err as Error).message };
      } catch {
        // a shorter prefix
      }
    }
    throw err;
  }
}
