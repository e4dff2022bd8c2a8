import { Module } from '@nestjs/common';
import { JobProgressGateway } from '@app/ml/jobs/job-progress.gateway';
import { JobsController } from '@app/ml/jobs/jobs.controller';
import { JobsService } from '@app/ml/jobs/jobs.service';

/**
 * Jobs of every kind: /api/v1/ml/jobs/:job_id (+ /events), and the one progress WebSocket at
 * /api/v1/ml/jobs/progress. MLServiceClient, TenantGuard and the TenantResolver come from the
 * global MlModule.
 */
@Module({
  controllers: [JobsController],
  providers: [JobsService, JobProgressGateway],
  exports: [JobsService],
})
export class JobsModule {}
