// One error shape for every REST response: { statusCode, error, message, problems?, correlationId }.
// Refusals of the domain (a typed error with a `code`) become the matching 4xx with their own
// message; body-parsing failures of Fastify get a plain explanation; anything unknown is a 500
// that says only the correlation id, while the log keeps the details.
import { Catch, HttpException, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { STATUS_CODES } from 'node:http';
import { correlationIdOf } from './request-context.js';

export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  problems?: string[];
  correlationId: string;
}

/** A response recorded earlier for an Idempotency-Key, sent again exactly. */
export class ReplayedResponse extends Error {
  constructor(readonly status: number, readonly body: unknown) {
    super('replayed response');
  }
}

const DOMAIN_STATUS: Record<string, number> = {
  ENGINE_TRANSITION_REFUSED: 409,
  FLATTEN_REFUSED: 409,
  INVALID_RISK_COMMAND: 400,
  FLAG_NOT_FOUND: 404,
  INVALID_FLAG_TRANSITION: 409,
  INVALID_CASE_INPUT: 400,
  UNKNOWN_PROJECTION: 404,
  REBUILD_IN_PROGRESS: 409,
  CONCURRENT_COMMAND: 409,
  IDEMPOTENCY_CONFLICT: 422,
  EVENT_STORE_UNAVAILABLE: 503,
  WEBHOOK_SUBSCRIPTION_NOT_FOUND: 404,
  WEBHOOK_SUBSCRIPTION_CONFLICT: 409,
  INVALID_WEBHOOK_SUBSCRIPTION: 400,
};

const BODY_LIMIT_KIB = 256;

function body(status: number, message: string, correlationId: string, problems?: string[]): ErrorBody {
  return { statusCode: status, error: STATUS_CODES[status] ?? 'Error', message, ...(problems?.length ? { problems } : {}), correlationId };
}

/** The status and body to send for an error; `unknown` is true when it is a 500 to log. */
export function toErrorResponse(err: unknown, correlationId: string): { status: number; body: ErrorBody; unknown: boolean } {
  const e = err as { code?: unknown; statusCode?: unknown; problems?: unknown; message?: unknown; name?: unknown };
  if (typeof e?.code === 'string' && e.code in DOMAIN_STATUS) {
    const status = DOMAIN_STATUS[e.code];
    const problems = Array.isArray(e.problems) ? (e.problems as string[]) : undefined;
    return { status, body: body(status, String(e.message), correlationId, problems), unknown: false };
  }
  // Fastify's body parsing (before any handler): some arrive raw, some mapped to HttpException.
  const status = err instanceof HttpException ? err.getStatus() : typeof e?.statusCode === 'number' ? e.statusCode : 500;
  const fst = typeof e?.code === 'string' ? e.code : '';
  const raw = String(e?.message ?? '');
  if (status === 413 || fst === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return { status: 413, body: body(413, `request body is larger than the ${BODY_LIMIT_KIB} KiB limit`, correlationId), unknown: false };
  }
  if (status === 415 || fst === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    const message = err instanceof HttpException ? messageOf(err) : raw;
    return { status: 415, body: body(415, /content-type/i.test(message) ? message : `send the body as JSON with 'Content-Type: application/json' (${message})`, correlationId), unknown: false };
  }
  if (fst === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
    return { status: 400, body: body(400, "body is empty but Content-Type is application/json: send a JSON object", correlationId), unknown: false };
  }
  if (fst === 'FST_ERR_CTP_INVALID_JSON_BODY') {
    // Fastify's JSON parser (secure-json-parse) reports prototype-poisoning keys the same way.
    return {
      status: 400,
      body: body(400, 'body is not valid JSON (check its quotes, commas and brackets), or has a field named __proto__ or constructor.prototype, which is refused', correlationId),
      unknown: false,
    };
  }
  if (status === 400 && (e?.name === 'SyntaxError' || fst === 'FST_ERR_CTP_INVALID_JSON_BODY' || /JSON|Unexpected token|Unexpected end/i.test(raw)) && !(err instanceof HttpException && (err.getResponse() as { problems?: unknown })?.problems)) {
    return { status: 400, body: body(400, 'body is not valid JSON: check its quotes, commas and brackets', correlationId), unknown: false };
  }
  if (err instanceof HttpException) {
    const r = err.getResponse() as { problems?: unknown };
    const problems = typeof r === 'object' && Array.isArray(r?.problems) ? (r.problems as string[]) : undefined;
    return { status, body: body(status, messageOf(err), correlationId, problems), unknown: status >= 500 };
  }
  if (status >= 400 && status < 500) return { status, body: body(status, raw || 'bad request', correlationId), unknown: false };
  return {
    status: 500,
    body: body(500, `unexpected error; it was logged with correlation id ${correlationId}`, correlationId),
    unknown: true,
  };
}

function messageOf(err: HttpException): string {
  const r = err.getResponse();
  if (typeof r === 'string') return r;
  const m = (r as { message?: unknown }).message;
  if (Array.isArray(m)) return m.join('; ');
  return typeof m === 'string' ? m : err.message;
}

/** Global: every REST error goes through here. GraphQL errors are left to GraphQL. */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('API');

  catch(exception: unknown, host: ArgumentsHost) {
    if (host.getType() !== 'http') return exception;
    const http = host.switchToHttp();
    const req = http.getRequest<{ method?: string; url?: string }>();
    const reply = http.getResponse<{ status(code: number): { send(b: unknown): void }; header(k: string, v: string): void; sent?: boolean }>();
    if (exception instanceof ReplayedResponse) {
      reply.header('idempotent-replayed', 'true');
      reply.status(exception.status).send(exception.body);
      return;
    }
    const correlationId = correlationIdOf(req);
    const { status, body: b, unknown } = toErrorResponse(exception, correlationId);
    if (unknown) {
      const err = exception as Error;
      this.logger.error(`${req.method} ${req.url} failed [correlation id ${correlationId}]: ${err?.stack ?? String(exception)}`);
    }
    if (status === 401) reply.header('www-authenticate', 'Bearer');
    if (reply.sent) return;
    reply.status(status).send(b);
  }
}
