import { Module } from '@nestjs/common';
import { RegistryController } from '@app/ml/registry/registry.controller';
import { RegistryService } from '@app/ml/registry/registry.service';

/** Issue 4: /api/v1/ml/registry. MLServiceClient and TenantGuard come from the global MlModule. */
@Module({
  controllers: [RegistryController],
  providers: [RegistryService],
  exports: [RegistryService],
})
export class RegistryModule {}
