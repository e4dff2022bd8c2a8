import { Module } from '@nestjs/common';
import { FeaturesController } from '@app/ml/features/features.controller';
import { FeaturesService } from '@app/ml/features/features.service';

/** /api/v1/ml/features: feature sets on the ML Service's Feast. MLServiceClient and TenantGuard come from the global MlModule. */
@Module({
  controllers: [FeaturesController],
  providers: [FeaturesService],
  exports: [FeaturesService],
})
export class FeaturesModule {}
