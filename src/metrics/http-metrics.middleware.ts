import { Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
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

/**
 * Times every request. The label is the matched route template (`/api/v1/ml/serving/:model_id/predict`),
 * read when the response finishes, so the series stay bounded; the cost is one hrtime call and one
 * observation per request.
 */
@Injectable()
export class HttpMetricsMiddleware implements NestMiddleware {
  use(request: Request, response: Response, next: NextFunction): void {
    const started = process.hrtime.bigint();
    response.once('finish', () => {
      const route = (request.route as { path?: string } | undefined)?.path;
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      HTTP_REQUESTS.observe({ method: request.method, route: route ?? 'unmatched', status: String(response.statusCode) }, seconds);
    });
    next();
  }
}
