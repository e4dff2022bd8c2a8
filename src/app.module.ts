import { Logger, Module } from '@nestjs/common';
import { ConditionalModule, ConfigType } from '@nestjs/config';
import { CommonModule } from '@app/common/common.module';
import { ApiKeyTenantResolver } from '@app/common/tenant/api-key.tenant-resolver';
import { authConfig } from '@app/config/auth.config';
import { AppConfigModule } from '@app/config/config.module';
import { isMlModuleEnabled } from '@app/config/environment';
import { mlConfig } from '@app/config/ml.config';
import { HealthModule } from '@app/health/health.module';
import { MetricsModule } from '@app/metrics/metrics.module';
import { MlModule } from '@app/ml/ml.module';
import { WorkbenchModule } from '@app/workbench/workbench.module';

/**
 * The standalone AI Service: configuration, the shared request pipeline, health, and MlModule and
 * the workbench page (GET /workbench) when MODULE_ML_ENABLED is set. The condition parses the flag
 * with the same validator as the rest of the configuration, so "0" and "false" both turn it off.
 */
@Module({
  imports: [
    AppConfigModule,
    CommonModule,
    HealthModule,
    MetricsModule,
    ConditionalModule.registerWhen(
      MlModule.forRootAsync({
        inject: [mlConfig.KEY, authConfig.KEY],
        useFactory: (ml: ConfigType<typeof mlConfig>, auth: ConfigType<typeof authConfig>) => ({
          mlServiceUrl: ml.serviceUrl,
          serviceToken: ml.serviceToken,
          timeoutMs: ml.timeoutMs,
          maxAttempts: ml.maxAttempts,
          predictMaxInFlight: ml.predictMaxInFlight,
          predictDirect: ml.predictDirect,
          maxDatasetSizeGb: ml.maxDatasetSizeGb,
          llm: ml.llm,
          tenantResolver: new ApiKeyTenantResolver(auth.tenantByApiKey),
        }),
      }),
      (env) => {
        const enabled = isMlModuleEnabled(env);
        if (!enabled) {
          Logger.log('MODULE_ML_ENABLED is off: no /api/v1/ml routes, readiness ignores the ML Service', 'AppModule');
        }
        return enabled;
      },
      { debug: false },
    ),
    // The page asks for this service's API keys; a host embedding MlModule has its own pages and sign-in.
    ConditionalModule.registerWhen(WorkbenchModule, isMlModuleEnabled, { debug: false }),
  ],
})
export class AppModule {}
