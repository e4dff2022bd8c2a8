import { HttpModule } from '@nestjs/axios';
import { Module } from '@nestjs/common';
import { ApiKeyTenantResolver } from '@app/common/tenant/api-key.tenant-resolver';
import { TenantGuard } from '@app/common/tenant/tenant.guard';
import { TENANT_RESOLVER } from '@app/common/tenant/tenant-resolver';
import { authConfig } from '@app/config/auth.config';
import { ChatModule } from '@app/ml/chat/chat.module';
import { MLServiceClient } from '@app/ml/client/ml-service.client';
import { DatasetsModule } from '@app/ml/datasets/datasets.module';
import { EdaModule } from '@app/ml/eda/eda.module';
import { FeaturesModule } from '@app/ml/features/features.module';
import { JobsModule } from '@app/ml/jobs/jobs.module';
import { McpModule } from '@app/ml/mcp/mcp.module';
import { ML_OPTIONS, type MlModuleOptions, resolveMlModuleOptions } from '@app/ml/ml-module-options';
import { ConfigurableMlModule, ML_MODULE_OPTIONS } from '@app/ml/ml.module-definition';
import { RegistryModule } from '@app/ml/registry/registry.module';
import { ServingModule } from '@app/ml/serving/serving.module';
import { TrackingModule } from '@app/ml/tracking/tracking.module';
import { TrainingModule } from '@app/ml/training/training.module';
import { ToolsModule } from '@app/ml/tools/tools.module';
import { TuningModule } from '@app/ml/tuning/tuning.module';

/**
 * The ML Integration module. Import it only when ML is enabled: it registers every /api/v1/ml/*
 * route and the shared MLServiceClient, and nothing of it exists otherwise.
 *
 *   MlModule.forRoot({ mlServiceUrl: 'http://127.0.0.1:8000' })
 *   MlModule.forRootAsync({ imports: [...], inject: [...], useFactory: (...) => options })
 */
@Module({
  imports: [HttpModule, DatasetsModule, TrainingModule, TuningModule, JobsModule, TrackingModule, RegistryModule, ServingModule, EdaModule, FeaturesModule, ToolsModule, McpModule, ChatModule],
  providers: [
    { provide: ML_OPTIONS, inject: [ML_MODULE_OPTIONS], useFactory: resolveMlModuleOptions },
    {
      provide: TENANT_RESOLVER,
      inject: [ML_MODULE_OPTIONS],
      // The default reads API_KEYS only when no resolver is given, so hosts need none of our variables.
      useFactory: (options: MlModuleOptions) => options.tenantResolver ?? new ApiKeyTenantResolver(authConfig().tenantByApiKey),
    },
    MLServiceClient,
    TenantGuard,
  ],
  exports: [ML_OPTIONS, TENANT_RESOLVER, MLServiceClient, TenantGuard],
})
export class MlModule extends ConfigurableMlModule {}
