// The saga states this process wrote last, so the engine's next step of a saga need not read its
// stream again: the state after our own append is exactly what a read would fold. An entry is kept
// only under the fencing token it was written under (null with HA off): after a change of
// leadership another node may have written, so the stream is read. A state that is stale for any
// other reason (a write by someone else) costs nothing but a WrongExpectedRevisionError at the
// step's append; the entry is dropped then and the step is taken again from a read.
import { Injectable } from '@nestjs/common';
import { engineFence } from '../ledger/leadership/fencing.js';
import type { SagaState } from './saga.js';

@Injectable()
export class KnownSagas {
  /** Open sagas only; a bounded number (the oldest entry goes first). */
  private readonly states = new Map<string, { token: bigint | null; state: SagaState }>();
  private static readonly max = 10_000;

  private static token(): bigint | null {
    return engineFence.getStore()?.fence.revision ?? null;
  }

  /** The state this process last wrote for the stream, under the current fencing token. */
  get(streamId: string): SagaState | null {
    const hit = this.states.get(streamId);
    return hit && hit.token === KnownSagas.token() ? hit.state : null;
  }

  /** Keeps the state after an append of ours; a finished saga is dropped (no step follows). */
  set(streamId: string, state: SagaState): void {
    this.states.delete(streamId);
    if (state.phase === 'finished') return;
    this.states.set(streamId, { token: KnownSagas.token(), state });
    if (this.states.size > KnownSagas.max) this.states.delete(this.states.keys().next().value as string);
  }

  forget(streamId: string): void {
    this.states.delete(streamId);
  }
}
