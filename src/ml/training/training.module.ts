import { Module } from '@nestjs/common';
import { TrainingController } from '@app/ml/training/training.controller';
import { TrainingService } from '@app/ml/training/training.service';

/** Seed 001: /api/v1/ml/train. MLServiceClient and TenantGuard come from the global MlModule. */
@Module({
  controllers: [TrainingController],
  providers: [TrainingService],
})
export class TrainingModule {}
