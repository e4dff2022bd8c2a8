import { Injectable } from '@nestjs/common';
import type { TenantContext } from '@app/common/tenant/tenant-context';
import { MLServiceClient } from '@app/ml/client/ml-service.client';
import { type JobResponseDto, toJobResponse } from '@app/ml/jobs/dto/job-response.dto';
import { type JobStreamMessage, relayEvents, toJobEventDto } from '@app/ml/jobs/job-events';

/** Jobs of every kind (training, batch prediction, …) by id, and their pushed progress. */
@Injectable()
export class JobsService {
  constructor(private readonly mlService: MLServiceClient) {}

  async get(jobId: string, caller: TenantContext): Promise<JobResponseDto> {
    return toJobResponse(await this.mlService.getJob(caller, jobId));
  }

  /** Cancel a queued or running job of any kind; its work has stopped when this resolves. */
  async cancel(jobId: string, caller: TenantContext): Promise<JobResponseDto> {
    return toJobResponse(await this.mlService.cancelJob(caller, jobId));
  }

  /**
   * The job's events from its current state to its end, as stream messages. Rejects like `get` (404
   * for another tenant's job) before anything is streamed.
   */
  async events(jobId: string, caller: TenantContext, signal: AbortSignal): Promise<AsyncIterable<JobStreamMessage>> {
    return relayEvents(await this.mlService.openJobEvents(caller, jobId, signal), toJobEventDto);
  }
}
