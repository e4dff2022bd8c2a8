import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';

/**
 * A request as both HTTP adapters hand it to guards, decorators and resolvers: Express's request
 * and Fastify's (@nestjs/platform-fastify) both carry these, with `query` and `body` parsed.
 */
export interface HttpRequest {
  method?: string;
  url?: string;
  headers: IncomingHttpHeaders;
  query?: unknown;
  body?: unknown;
}

/**
 * A response as a handler with `@Res({ passthrough: true })` sets its status and headers: Express's
 * `response.status(code)` and `response.header(name, value)` and Fastify's reply methods of the
 * same names.
 */
export interface HttpReplyHeaders {
  status(code: number): unknown;
  header(name: string, value: string): unknown;
}

/**
 * The Node request of either adapter: Express's request is Node's IncomingMessage itself (extended);
 * Fastify's wraps it as `raw`. Middleware gets the Node object under both, guards and controllers
 * get the adapter's, so what is attached to a request for later (its tenant) is attached here.
 */
export function nodeRequestOf(request: object): IncomingMessage {
  return ((request as { raw?: IncomingMessage }).raw ?? request) as IncomingMessage;
}

/** The Node response of either adapter (Express's response itself, Fastify's `reply.raw`). */
export function nodeResponseOf(response: object): ServerResponse {
  return ((response as { raw?: ServerResponse }).raw ?? response) as ServerResponse;
}

/**
 * The Node response, for a handler that writes it itself (a stream, a Node library such as the MCP
 * SDK): Fastify is told to leave it alone (`reply.hijack()`), Express needs nothing.
 */
export function takeOverResponse(response: object): ServerResponse {
  const reply = response as { hijack?: () => void };
  if (typeof reply.hijack === 'function') {
    reply.hijack();
  }
  return nodeResponseOf(response);
}
