// Per-request correlation id: taken from X-Correlation-Id when the caller sends a sane one,
// otherwise made up; echoed in the response and written into the events a command records.
import { randomUUID } from 'node:crypto';

const CORRELATION = Symbol('arbiter.correlationId');
const SANE = /^[A-Za-z0-9._:@-]{1,100}$/;

export function correlationIdOf(req: object): string {
  const r = req as { headers?: Record<string, unknown>; [CORRELATION]?: string };
  if (!r[CORRELATION]) {
    const h = r.headers?.['x-correlation-id'];
    r[CORRELATION] = typeof h === 'string' && SANE.test(h) ? h : randomUUID();
  }
  return r[CORRELATION]!;
}
