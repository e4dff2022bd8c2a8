import { Module } from '@nestjs/common';
import { ServingController } from '@app/ml/serving/serving.controller';
import { ServingService } from '@app/ml/serving/serving.service';
import { InferenceV2Controller } from '@app/ml/serving/v2/inference-v2.controller';
import { InferenceV2Service } from '@app/ml/serving/v2/inference-v2.service';

/** Issue 5: /api/v1/ml/serving, and the Open Inference Protocol v2 beneath it. MLServiceClient and TenantGuard come from the global MlModule. */
@Module({
  controllers: [ServingController, InferenceV2Controller],
  providers: [ServingService, InferenceV2Service],
  exports: [ServingService],
})
export class ServingModule {}
