// Typed errors of the event store port. Every adapter maps its own failures to these.
import type { ExpectedRevision } from './envelope.js';

export class WrongExpectedRevisionError extends Error {
  readonly code = 'WRONG_EXPECTED_REVISION';
  constructor(
    readonly streamId: string,
    readonly expected: ExpectedRevision,
    /** -1n when the stream does not exist. */
    readonly actual: bigint,
  ) {
    super(
      `Append to stream "${streamId}" expected revision ${String(expected)} but the stream is at ` +
        (actual < 0n ? 'no_stream' : String(actual)),
    );
    this.name = 'WrongExpectedRevisionError';
  }
}

/** Some but not all of the event ids were already written, or they were written to another stream. */
export class IdempotencyConflictError extends Error {
  readonly code = 'IDEMPOTENCY_CONFLICT';
  constructor(readonly streamId: string, detail: string) {
    super(`Append to stream "${streamId}" reuses event ids of a different append: ${detail}`);
    this.name = 'IdempotencyConflictError';
  }
}

export class InvalidEventError extends Error {
  readonly code = 'INVALID_EVENT';
  constructor(message: string) {
    super(message);
    this.name = 'InvalidEventError';
  }
}

export class EventStoreUnavailableError extends Error {
  readonly code = 'EVENT_STORE_UNAVAILABLE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EventStoreUnavailableError';
  }
}

/**
 * An append carried a fence ("stream F is still at revision R") that no longer holds: another
 * engine took over (its EngineLeadershipAcquired moved `engine-leader` on), or this node's own
 * lease ran out before the append was sent. Nothing was written; the engine steps down.
 */
export class FencedError extends Error {
  readonly code = 'FENCED';
  constructor(
    readonly streamId: string,
    readonly fence: { stream: string; revision: bigint },
    /** The fence stream's revision now (-1n when it does not exist; null when refused locally). */
    readonly actual: bigint | null,
  ) {
    super(
      `Append to stream "${streamId}" refused: fence "${fence.stream}" expected at revision ${fence.revision} but ` +
        (actual === null ? 'this node is past its lease deadline' : `it is at ${actual < 0n ? 'no_stream' : String(actual)}`) +
        ' (another engine leads now)',
    );
    this.name = 'FencedError';
  }
}
