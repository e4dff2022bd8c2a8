import { randomUUID } from 'node:crypto';
import { Injectable, Logger, NestMiddleware } from '@nestjs/common';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { resolvedTenantOf } from '@app/common/tenant/tenant-context';

export const REQUEST_ID_HEADER = 'x-request-id';

/** Ids we accept from callers: short and printable, so they cannot forge log lines. */
const ACCEPTABLE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The request id of the current request, set by RequestIdMiddleware. */
export function requestIdOf(request: { headers: IncomingHttpHeaders }): string {
  const header = request.headers[REQUEST_ID_HEADER];
  return typeof header === 'string' ? header : '';
}

/**
 * Takes the caller's X-Request-ID (or makes a UUID), echoes it on the response and logs one line
 * per request with it, the tenant, route, status and duration (the ML Service's access line has the
 * same fields, so one request is followed across both services by its id). A middleware rather
 * than an interceptor so that the id exists before guards run and appears on their 401/403 answers
 * too.
 */
@Injectable()
export class RequestIdMiddleware implements NestMiddleware {
  private readonly logger = new Logger('HTTP');

  /** Nest hands middleware the Node request and response under both HTTP adapters. */
  use(request: IncomingMessage & { originalUrl?: string }, response: ServerResponse, next: () => void): void {
    const given = request.headers[REQUEST_ID_HEADER];
    const requestId = typeof given === 'string' && ACCEPTABLE_REQUEST_ID.test(given) ? given : randomUUID();
    request.headers[REQUEST_ID_HEADER] = requestId;
    response.setHeader('X-Request-ID', requestId);
    const started = process.hrtime.bigint();
    response.on('finish', () => {
      const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      // Structured fields: top-level keys of the JSON line (LOG_FORMAT=json), one compact object
      // after the message on the console. The path without its query: SSE and WebSocket URLs may
      // carry an api_key there.
      this.logger.log('request handled', {
        method: request.method ?? '',
        path: (request.originalUrl ?? request.url ?? '').split('?')[0],
        status: response.statusCode,
        duration_ms: Math.round(durationMs * 10) / 10,
        request_id: requestId,
        tenant_id: resolvedTenantOf(request) ?? '-',
      });
    });
    next();
  }
}
