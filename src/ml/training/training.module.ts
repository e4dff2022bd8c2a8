import { Module } from '@nestjs/common';
import { TrainingController } from '@app/ml/training/training.controller';
import { TrainingProgressGateway } from '@app/ml/training/training-progress.gateway';
import { TrainingService } from '@app/ml/training/training.service';

/**
 * Seed 001: /api/v1/ml/train, and the progress WebSocket at /api/v1/ml/train/progress (the
 * application needs `app.useWebSocketAdapter(new WsAdapter(app))`). MLServiceClient, TenantGuard
 * and the TenantResolver come from the global MlModule.
 */
@Module({
  controllers: [TrainingController],
  providers: [TrainingService, TrainingProgressGateway],
  exports: [TrainingService],
})
export class TrainingModule {}
