import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { METRICS_REGISTRY } from '@app/metrics/http-metrics.middleware';

/** Prometheus scrape endpoint (text exposition format); open like /health, for the scraper. */
@ApiExcludeController()
@Controller('metrics')
export class MetricsController {
  @Get()
  @Header('Content-Type', METRICS_REGISTRY.contentType)
  scrape(): Promise<string> {
    return METRICS_REGISTRY.metrics();
  }
}
