import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, Post, Query } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBody,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import { IdempotencyKey } from '@app/common/idempotency-key.decorator';
import { ErrorResponseDto } from '@app/common/filters/error-response.dto';
import { TenantScopedMlApi } from '@app/ml/ml-api.decorator';
import { CallerTenant, type TenantContext } from '@app/common/tenant/tenant-context';
import { CreateTrainingJobDto } from '@app/ml/training/dto/create-training-job.dto';
import {
  FORECASTING_TRAINING_REQUEST,
  NEURAL_NETWORK_TRAINING_REQUEST,
  SEED_001_TRAINING_REQUEST,
} from '@app/ml/training/dto/training-examples';
import { ListTrainingJobsQueryDto } from '@app/ml/training/dto/list-training-jobs-query.dto';
import { TrainingJobIdParamDto } from '@app/ml/training/dto/training-job-id.param.dto';
import { TrainingJobListResponseDto, TrainingJobResponseDto } from '@app/ml/training/dto/training-job-response.dto';
import { TrainingService } from '@app/ml/training/training.service';

@ApiTags('training')
@ApiResponse({ status: 403, type: ErrorResponseDto, description: 'The request names another tenant.' })
@TenantScopedMlApi()
@Controller('api/v1/ml/train')
export class TrainingController {
  constructor(private readonly training: TrainingService) {}

  @Post()
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({ summary: 'Submit a training job', description: "Validated against the dataset's schema and the algorithm catalog, then queued on the ML Service." })
  @ApiBody({
    type: CreateTrainingJobDto,
    examples: {
      seed_001: { summary: "Seed 001's churn model on the demo tenant", value: SEED_001_TRAINING_REQUEST },
      neural_network: { summary: 'A PyTorch MLP on the same churn data', value: NEURAL_NETWORK_TRAINING_REQUEST },
      forecasting: { summary: 'Forecast two weeks of demo daily revenue with Prophet', value: FORECASTING_TRAINING_REQUEST },
    },
  })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'Repeat a submission safely: the same key returns the same job.' })
  @ApiAcceptedResponse({ type: TrainingJobResponseDto })
  @ApiResponse({ status: 400, type: ErrorResponseDto, description: 'The body does not match the schema.' })
  @ApiResponse({ status: 422, type: ErrorResponseDto, description: 'Unknown column, algorithm or hyperparameter, or a target unfit for the task.' })
  @ApiResponse({ status: 429, type: ErrorResponseDto, description: 'The tenant already runs its maximum of concurrent jobs.' })
  submitTrainingJob(
    @Body() config: CreateTrainingJobDto,
    @CallerTenant() caller: TenantContext,
    @IdempotencyKey() idempotencyKey: string,
  ): Promise<TrainingJobResponseDto> {
    return this.training.submit(config, caller, idempotencyKey);
  }

  @Get(':job_id')
  @ApiOperation({ summary: 'Get a training job', description: 'Status and progress; metrics, feature importance and the model once completed.' })
  @ApiOkResponse({ type: TrainingJobResponseDto })
  @ApiResponse({ status: 404, type: ErrorResponseDto, description: 'No such job for this tenant.' })
  getTrainingJob(@Param() params: TrainingJobIdParamDto, @CallerTenant() caller: TenantContext): Promise<TrainingJobResponseDto> {
    return this.training.get(params.job_id, caller);
  }

  @Get()
  @ApiOperation({ summary: "List the caller's training jobs", description: 'Newest first, optionally filtered by status.' })
  @ApiOkResponse({ type: TrainingJobListResponseDto })
  listTrainingJobs(@Query() query: ListTrainingJobsQueryDto, @CallerTenant() caller: TenantContext): Promise<TrainingJobListResponseDto> {
    return this.training.list(query, caller);
  }

  @Delete(':job_id')
  @ApiOperation({ summary: 'Cancel a training job', description: 'Stops the work on the ML Service; the job ends cancelled.' })
  @ApiOkResponse({ type: TrainingJobResponseDto })
  @ApiResponse({ status: 404, type: ErrorResponseDto, description: 'No such job for this tenant.' })
  @ApiResponse({ status: 409, type: ErrorResponseDto, description: 'The job has already ended.' })
  cancelTrainingJob(@Param() params: TrainingJobIdParamDto, @CallerTenant() caller: TenantContext): Promise<TrainingJobResponseDto> {
    return this.training.cancel(params.job_id, caller);
  }
}
