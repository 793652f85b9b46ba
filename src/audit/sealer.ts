// The sealer: every N events or T seconds, whichever comes first, it signs the global chain's
// head (position, hash) with the seal key and appends that as `LedgerSealed` (optionally after
// anchoring it outside the database). It never seals when nothing was appended since the last
// seal: the last seal is then the head of the log. Framework-free; audit.module.ts runs it.
import type { EventStore } from '../ledger/event-store.port.js';
import { newEvent } from '../ledger/event-types.js';
import bs58 from 'bs58';
import type { Signer } from '../signing/signer.port.js';
import type { SealAnchorPort } from './anchor.port.js';
import { LedgerSealed, SEAL_STREAM, sealMemo, sealMessage, type LedgerSealedPayload, type SealAnchor } from '../ledger/sealing/seal.js';

export interface SealPolicy {
  /** Seal once this many events were appended since the last seal. */
  everyEvents: number;
  /** Seal when this long has passed since the last seal and something was appended. */
  everySeconds: number;
}

export interface SealDueInput {
  /** Events appended since the last seal's own event (capped at everyEvents where counted). */
  newEvents: number;
  /** Milliseconds since the last seal (or since the sealer started, when there is none). */
  sinceLastMs: number;
}

/** Pure: is a seal due? Never when nothing is new. */
export function sealDue(input: SealDueInput, policy: SealPolicy): boolean {
  if (input.newEvents <= 0) return false;
  return input.newEvents >= policy.everyEvents || input.sinceLastMs >= policy.everySeconds * 1000;
}

export interface SealResult {
  eventPosition: bigint;
  eventId: string;
  payload: LedgerSealedPayload;
}

export class LedgerSealer {
  /** The last seal's event position and time; undefined until read from the log. */
  private last: { eventPosition: bigint; atMs: number } | undefined;

  constructor(
    private readonly store: EventStore,
    private readonly signer: Signer,
    private readonly anchor: SealAnchorPort | null,
    private readonly policy: SealPolicy,
    private readonly opts: { now?: () => Date; log?: (message: string) => void } = {},
  ) {}

  private now(): Date {
    return this.opts.now?.() ?? new Date();
  }

  /** Seals when one is due; returns the seal, or null when none was due. */
  async tick(): Promise<SealResult | null> {
    const last = await this.lastSeal();
    const newEvents = await this.eventsSince(last.eventPosition);
    if (!sealDue({ newEvents, sinceLastMs: this.now().getTime() - last.atMs }, this.policy)) return null;
    return this.seal();
  }

  /** Seals now if anything was appended since the last seal; null when nothing was. */
  async sealIfNew(): Promise<SealResult | null> {
    const last = await this.lastSeal();
    if ((await this.eventsSince(last.eventPosition)) === 0) return null;
    return this.seal();
  }

  private async seal(): Promise<SealResult> {
    const head = await this.store.logHead();
    const sealedAt = this.now().toISOString();
    const signature = await this.signer.sign(sealMessage(head.position, head.hash, sealedAt));
    let anchor: SealAnchor | null = null;
    if (this.anchor) {
      try {
        anchor = await this.anchor.anchor(sealMemo(head.position, head.hash));
      } catch (err) {
        // The seal is still signed and kept; the next seal tries to anchor again.
        this.opts.log?.(`seal at position ${head.position} not anchored (${this.anchor.name}): ${(err as Error).message}`);
      }
    }
    const payload: LedgerSealedPayload = {
      position: head.position.toString(),
      hash: head.hash,
      sealedAt,
      keyId: this.signer.keyId,
      signerKind: this.signer.kind,
      publicKey: await this.signer.publicKeyBase58(),
      signature: bs58.encode(signature),
      anchor,
    };
    const event = newEvent(LedgerSealed, payload, {
      correlationId: `seal-${head.position}`,
      causationId: null,
      actor: 'engine:sealer',
      tenant: 'default',
    }, { recordedAt: sealedAt });
    const r = await this.store.append(SEAL_STREAM, [event], 'any');
    this.last = { eventPosition: r.position, atMs: Date.parse(sealedAt) };
    return { eventPosition: r.position, eventId: event.id, payload };
  }

  private async lastSeal(): Promise<{ eventPosition: bigint; atMs: number }> {
    if (this.last) return this.last;
    const [e] = await this.store.readStream(SEAL_STREAM, { direction: 'backward', maxCount: 1, raw: true });
    this.last = e
      ? { eventPosition: e.position, atMs: Date.parse((e.payload as LedgerSealedPayload).sealedAt) }
      : { eventPosition: 0n, atMs: this.now().getTime() };
    return this.last;
  }

  /** Events after a position: by arithmetic on dense positions, else by reading (capped). */
  private async eventsSince(position: bigint): Promise<number> {
    if (this.store.bookkeeping?.contiguousPositions) {
      const head = await this.store.headPosition();
      return Number(head > position ? head - position : 0n);
    }
    return (await this.store.readAll({ after: position, maxCount: Math.max(1, this.policy.everyEvents) })).length;
  }
}
