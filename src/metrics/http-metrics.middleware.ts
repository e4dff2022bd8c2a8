import { Injectable, type NestMiddleware } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Histogram, Registry } from 'prom-client';

/** The AI Service's own registry (not prom-client's global one), so a host app's metrics stay its own. */
export const METRICS_REGISTRY = new Registry();

const HTTP_REQUESTS = new Histogram({
  name: 'ai_http_request_duration_seconds',
  help: 'HTTP requests handled by the AI Service',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [METRICS_REGISTRY],
});

const FASTIFY_ROUTES = new WeakMap<IncomingMessage, string>();

/** Fastify keeps the matched route on its own request object; configureApp copies it here for the Node request. */
export function rememberRouteTemplate(request: IncomingMessage, template: string | undefined): void {
  if (template !== undefined) {
    FASTIFY_ROUTES.set(request, template);
  }
}

/** The matched route template: Express's `request.route.path`, or what Fastify matched (rememberRouteTemplate). */
function routeTemplateOf(request: IncomingMessage): string | undefined {
  return ((request as { route?: { path?: string } }).route?.path ?? FASTIFY_ROUTES.get(request));
}

/**
 * Times every request. The label is the matched route template (`/api/v1/ml/serving/:model_id/predict`),
 * read when the response finishes, so the series stay bounded; the cost is one hrtime call and one
 * observation per request.
 */
@Injectable()
export class HttpMetricsMiddleware implements NestMiddleware {
  /** Nest hands middleware the Node request and response under both HTTP adapters. */
  use(request: IncomingMessage, response: ServerResponse, next: () => void): void {
    const started = process.hrtime.bigint();
    response.once('finish', () => {
      const route = routeTemplateOf(request);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      HTTP_REQUESTS.observe({ method: request.method ?? '', route: route ?? 'unmatched', status: String(response.statusCode) }, seconds);
    });
    next();
  }
}
