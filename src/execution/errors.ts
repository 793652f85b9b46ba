// Typed failures of the venue adapters. A transaction that is refused or fails on chain is an
// outcome (SubmitOutcome / ConfirmOutcome), not an error; these are for when the venue could not
// be asked, answered nonsense, or the caller passed something no venue can send.

export type VenueErrorCode =
  /** Connection refused, timeout, HTTP 5xx/429: the node was not reached or did not answer. */
  | 'RPC_UNAVAILABLE'
  /** The node answered with a JSON-RPC error we do not map to an outcome. */
  | 'RPC_ERROR'
  /** The node's answer did not have the shape of a Solana RPC reply. */
  | 'MALFORMED_RESPONSE'
  /** Bad input: wrong key or signature length, an unparseable or foreign swap transaction. */
  | 'INVALID_REQUEST'
  /** confirm() was aborted by its signal before the transaction was final. */
  | 'CONFIRM_ABORTED'
  /** The composed round trip serializes to more than 1232 bytes: re-quote with a lower maxAccounts. */
  | 'TRANSACTION_TOO_LARGE'
  /** A round trip is already in flight on this input token account (its guard would be wrong). */
  | 'ACCOUNT_BUSY'
  /** The composed transaction failed its simulation (e.g. the profit guard): it was never signed nor sent. */
  | 'SIMULATION_FAILED';

const RETRYABLE: ReadonlySet<VenueErrorCode> = new Set(['RPC_UNAVAILABLE', 'CONFIRM_ABORTED', 'ACCOUNT_BUSY']);

export class VenueError extends Error {
  readonly retryable: boolean;
  constructor(
    readonly code: VenueErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'VenueError';
    this.retryable = RETRYABLE.has(code);
  }
}
