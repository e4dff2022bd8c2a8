import { Controller, Delete, Get, type MessageEvent, Param, Sse, SseSignal } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import { from, map, type Observable } from 'rxjs';
import { ErrorResponseDto } from '@app/common/filters/error-response.dto';
import { CallerTenant, type TenantContext } from '@app/common/tenant/tenant-context';
import { JobEventDto, JobStreamErrorDto } from '@app/ml/jobs/dto/job-event.dto';
import { JobIdParamDto, JobResponseDto } from '@app/ml/jobs/dto/job-response.dto';
import { JobsService } from '@app/ml/jobs/jobs.service';
import { TenantScopedMlApi } from '@app/ml/ml-api.decorator';

@ApiTags('jobs')
@TenantScopedMlApi()
@Controller('api/v1/ml/jobs')
export class JobsController {
  constructor(private readonly jobs: JobsService) {}

  @Get(':job_id')
  @ApiOperation({ summary: 'Get a job of any kind', description: 'Training, batch prediction, tuning sweep or profiling: status, latest progress, result or error.' })
  @ApiOkResponse({ type: JobResponseDto })
  @ApiResponse({ status: 404, type: ErrorResponseDto, description: 'No such job for this tenant.' })
  getJob(@Param() params: JobIdParamDto, @CallerTenant() caller: TenantContext): Promise<JobResponseDto> {
    return this.jobs.get(params.job_id, caller);
  }

  @Delete(':job_id')
  @ApiOperation({ summary: 'Cancel a job of any kind', description: 'A queued or running job is stopped before this answers; its status becomes `cancelled`.' })
  @ApiOkResponse({ type: JobResponseDto })
  @ApiResponse({ status: 404, type: ErrorResponseDto, description: 'No such job for this tenant.' })
  @ApiResponse({ status: 409, type: ErrorResponseDto, description: 'The job already ended.' })
  cancelJob(@Param() params: JobIdParamDto, @CallerTenant() caller: TenantContext): Promise<JobResponseDto> {
    return this.jobs.cancel(params.job_id, caller);
  }

  @Sse(':job_id/events')
  @ApiOperation({
    summary: 'Stream the progress of a job of any kind (Server-Sent Events)',
    description:
      'Events `status`, `progress` and a last `end` (data: JobEventDto), or `error` (data: JobStreamErrorDto) when the ML Service goes away; the stream closes after either. Progress is pushed as the job reports it. The same events are offered over WebSocket at /api/v1/ml/jobs/progress?job_id=….',
  })
  @ApiProduces('text/event-stream')
  @ApiExtraModels(JobEventDto, JobStreamErrorDto)
  @ApiOkResponse({ type: JobEventDto, description: "text/event-stream; each event's data is a JobEventDto (or a JobStreamErrorDto for `error`)." })
  @ApiResponse({ status: 404, type: ErrorResponseDto, description: 'No such job for this tenant.' })
  async streamJobEvents(@Param() params: JobIdParamDto, @CallerTenant() caller: TenantContext, @SseSignal() signal: AbortSignal): Promise<Observable<MessageEvent>> {
    // Opened before the Observable is returned, so a 404 or an unreachable ML Service is a plain HTTP error.
    const messages = await this.jobs.events(params.job_id, caller, signal);
    return from(messages).pipe(map((message): MessageEvent => ({ type: message.event, data: message.data })));
  }
}
