import { Module } from '@nestjs/common';
import { ServingController } from '@app/ml/serving/serving.controller';
import { ServingService } from '@app/ml/serving/serving.service';

/** Issue 5: /api/v1/ml/serving. MLServiceClient and TenantGuard come from the global MlModule. */
@Module({
  controllers: [ServingController],
  providers: [ServingService],
  exports: [ServingService],
})
export class ServingModule {}
