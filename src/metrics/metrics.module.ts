import { type MiddlewareConsumer, Module, type NestModule } from '@nestjs/common';
import { HttpMetricsMiddleware } from '@app/metrics/http-metrics.middleware';
import { MetricsController } from '@app/metrics/metrics.controller';

/** Prometheus metrics of the standalone service: an HTTP request histogram at GET /metrics. */
@Module({ controllers: [MetricsController] })
export class MetricsModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(HttpMetricsMiddleware).forRoutes('*path');
  }
}
