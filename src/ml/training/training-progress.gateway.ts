import { Inject } from '@nestjs/common';
import { WebSocketGateway } from '@nestjs/websockets';
import type { TenantContext } from '@app/common/tenant/tenant-context';
import { TENANT_RESOLVER, type TenantResolver } from '@app/common/tenant/tenant-resolver';
import { ProgressGateway } from '@app/ml/jobs/job-progress.gateway';
import type { StreamMessage } from '@app/ml/jobs/job-events';
import { toStreamMessages, TRAINING_JOB_ID } from '@app/ml/training/training-events';
import { TrainingService } from '@app/ml/training/training.service';

export { NORMAL_CLOSURE } from '@app/ml/jobs/job-progress.gateway';

export const TRAINING_PROGRESS_PATH = '/api/v1/ml/train/progress';

/**
 * Seed 001's "progress by WebSocket": `ws://host/api/v1/ml/train/progress?job_id=train-…`. The same
 * gateway as `/api/v1/ml/jobs/progress` (authentication, refusals, close codes), with the events in
 * the training API's shape (the SSE route's), as seed 001 defined them.
 */
@WebSocketGateway({ path: TRAINING_PROGRESS_PATH })
export class TrainingProgressGateway extends ProgressGateway {
  protected readonly jobIdRule = { pattern: TRAINING_JOB_ID, description: 'train-<12 hex digits>' };

  constructor(
    @Inject(TENANT_RESOLVER) resolver: TenantResolver,
    private readonly training: TrainingService,
  ) {
    super(resolver);
  }

  protected async open(jobId: string, caller: TenantContext, signal: AbortSignal): Promise<AsyncIterable<StreamMessage<unknown>>> {
    return toStreamMessages(await this.training.events(jobId, caller, signal));
  }
}
