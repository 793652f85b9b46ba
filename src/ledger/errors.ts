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
