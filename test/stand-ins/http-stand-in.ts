// Pieces the HTTP stand-ins share: JSON replies, and failure modes switched on for N requests.
import type { ServerResponse } from 'node:http';

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

/** A failure mode that applies to the next `times` requests (all of them by default). */
export class FailureSwitch<M extends string> {
  private mode: M | 'none' = 'none';
  private remaining = Infinity;

  set(mode: M | 'none', times = Infinity): void {
    this.mode = mode;
    this.remaining = times;
  }

  /** The mode for this request ('none' once used up). */
  take(): M | 'none' {
    if (this.mode === 'none' || this.remaining <= 0) return 'none';
    this.remaining--;
    return this.mode;
  }
}
