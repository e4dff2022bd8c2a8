import { FastifyAdapter } from '@nestjs/platform-fastify';
import { MAX_JSON_BODY_BYTES } from '@app/common/http/json-body.parser';

/**
 * The HTTP adapter of the standalone AI Service (main.ts) and its end-to-end tests: Fastify.
 *
 * A single-row predict costs the AI Service 1.0-1.3 ms of CPU on Fastify against 1.6-1.7 ms on
 * Express (measured side by side, README "Serving benchmark"): Express matches a request against
 * every route in turn (predict is the 60th of about a hundred) and re-prototypes each request and
 * response, where Fastify looks the route up in a radix tree. The module runs on either: a host
 * keeps its own adapter.
 *
 * Routes match as they did on Express: with or without a trailing slash, in any letter case.
 */
export function createHttpAdapter(): FastifyAdapter {
  return new FastifyAdapter({ bodyLimit: MAX_JSON_BODY_BYTES, routerOptions: { ignoreTrailingSlash: true, caseSensitive: false } });
}
