import { Module } from '@nestjs/common';
import { TrainingModule } from '@app/ml/training/training.module';
import { TuningController } from '@app/ml/tuning/tuning.controller';
import { TuningService } from '@app/ml/tuning/tuning.service';

/**
 * /api/v1/ml/tuning: sweeps on the ML Service's Ray Tune. Their progress events travel through the jobs gateway
 * (JobsModule); TrainingModule gives the tenant's limits, sent with every sweep as with a training job.
 */
@Module({
  imports: [TrainingModule],
  controllers: [TuningController],
  providers: [TuningService],
  exports: [TuningService],
})
export class TuningModule {}
