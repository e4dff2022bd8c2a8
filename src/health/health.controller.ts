import { Controller, Get, HttpException, Inject, ServiceUnavailableException } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckResult, HealthCheckService, HttpHealthIndicator } from '@nestjs/terminus';
import { mlConfig } from '@app/config/ml.config';

/** Readiness must answer quickly even when the ML Service hangs: probes have short deadlines too. */
const ML_SERVICE_PING_TIMEOUT_MS = 2000;

@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly http: HttpHealthIndicator,
    @Inject(mlConfig.KEY) private readonly ml: ConfigType<typeof mlConfig>,
  ) {}

  @Get('live')
  @ApiOperation({ summary: 'Liveness: the process answers' })
  @HealthCheck()
  checkLiveness(): Promise<HealthCheckResult> {
    return this.health.check([]);
  }

  @Get('ready')
  @ApiOperation({ summary: 'Readiness: the ML Service is ready (only when the ML module is enabled)' })
  @HealthCheck()
  async checkReadiness(): Promise<HealthCheckResult> {
    const mlServiceReadyUrl = `${this.ml.serviceUrl.replace(/\/+$/, '')}/health/ready`;
    try {
      return await this.health.check(
        this.ml.enabled
          ? [() => this.http.pingCheck('ml_service', mlServiceReadyUrl, { timeout: ML_SERVICE_PING_TIMEOUT_MS })]
          : [],
      );
    } catch (error) {
      throw describeNotReady(error, mlServiceReadyUrl);
    }
  }
}

/** Terminus reports failures as a details object; the error shape wants one sentence naming the cause. */
function describeNotReady(error: unknown, mlServiceReadyUrl: string): unknown {
  if (!(error instanceof HttpException)) {
    return error;
  }
  const failed = (error.getResponse() as Partial<HealthCheckResult>).error ?? {};
  const reasons = Object.entries(failed).map(([name, detail]) => `${name} (${mlServiceReadyUrl}): ${String(detail?.message ?? detail?.status)}`);
  return new ServiceUnavailableException(`Not ready: ${reasons.join('; ') || 'a dependency is down'}`);
}
