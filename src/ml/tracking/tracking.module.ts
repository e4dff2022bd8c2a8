import { Module } from '@nestjs/common';
import { TrackingController } from '@app/ml/tracking/tracking.controller';
import { TrackingService } from '@app/ml/tracking/tracking.service';

/** Issue 4: /api/v1/ml/tracking. MLServiceClient and TenantGuard come from the global MlModule. */
@Module({
  controllers: [TrackingController],
  providers: [TrackingService],
  exports: [TrackingService],
})
export class TrackingModule {}
