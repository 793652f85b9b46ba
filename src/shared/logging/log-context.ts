// What every log line of a request or a saga step carries: its correlation id (and, for a saga,
// the opportunity), kept in an AsyncLocalStorage so code several calls down logs it without
// being handed it. HTTP requests enter it in an onRequest hook, saga steps around each step.
import { AsyncLocalStorage } from 'node:async_hooks';

export interface LogContext {
  correlationId: string;
  [field: string]: string | number | boolean | undefined;
}

const storage = new AsyncLocalStorage<LogContext>();

/** Runs `fn` with `ctx` on every line it (and whatever it awaits) logs. */
export function withLogContext<T>(ctx: LogContext, fn: () => T): T {
  return storage.run({ ...storage.getStore(), ...ctx }, fn);
}

/** For a hook that cannot wrap the rest of the request in a function (Fastify's onRequest). */
export function enterLogContext(ctx: LogContext): void {
  storage.enterWith({ ...ctx });
}

export function currentLogContext(): LogContext | undefined {
  return storage.getStore();
}
