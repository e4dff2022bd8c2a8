import { HttpStatus, Injectable } from '@nestjs/common';
import { FieldErrorsException } from '@app/common/filters/field-errors.exception';
import type { TenantContext } from '@app/common/tenant/tenant-context';
import { MLServiceClient, type ServerTimingListener } from '@app/ml/client/ml-service.client';
import type { DeploymentCreate } from '@app/ml/client/ml-service.types';
import type { BatchPredictionResponseDto, CreateBatchPredictionDto } from '@app/ml/serving/dto/batch-prediction.dto';
import type {
  CreateDeploymentDto,
  DriftQueryDto,
  FeedbackEntryDto,
  ReleaseVersionDto,
  TrafficSplitDto,
} from '@app/ml/serving/dto/serving-requests.dto';
import type {
  DeploymentListResponseDto,
  DeploymentResponseDto,
  DriftReportResponseDto,
  FeedbackResultDto,
  PredictResponseDto,
  ServingMetricsResponseDto,
} from '@app/ml/serving/dto/serving-responses.dto';

/**
 * Model serving (issue 5): deployments on the ML Service's Ray Serve, predictions, feedback,
 * live metrics, drift, A/B splits and blue-green releases. The predict path forwards the body as
 * it came (no copy, no re-serialisation beyond axios'), so the AI Service adds as little as it can.
 */
@Injectable()
export class ServingService {
  constructor(private readonly mlService: MLServiceClient) {}

  deploy(deployment: CreateDeploymentDto, caller: TenantContext): Promise<DeploymentResponseDto> {
    const body: DeploymentCreate = {
      model_name: deployment.model_name,
      version: deployment.version,
      stage: deployment.stage,
      alias: deployment.alias,
      model_id: deployment.model_id,
      replicas: deployment.replicas,
      autoscaling: deployment.autoscaling,
      resources: deployment.resources,
      sampling_rate: deployment.sampling_rate,
      runtime: deployment.runtime,
    };
    return this.mlService.createDeployment(caller, body) as Promise<DeploymentResponseDto>;
  }

  list(caller: TenantContext): Promise<DeploymentListResponseDto> {
    return this.mlService.listDeployments(caller) as Promise<DeploymentListResponseDto>;
  }

  get(modelId: string, caller: TenantContext): Promise<DeploymentResponseDto> {
    return this.mlService.getDeployment(caller, modelId) as Promise<DeploymentResponseDto>;
  }

  async undeploy(modelId: string, caller: TenantContext): Promise<void> {
    await this.mlService.deleteDeployment(caller, modelId);
  }

  /** `onTiming` gets where the time went when the ML Service times its hops (MLServiceClient.predict). */
  predict(modelId: string, features: unknown, requestKey: string | undefined, caller: TenantContext, onTiming?: ServerTimingListener): Promise<PredictResponseDto> {
    return this.mlService.predict(caller, modelId, features, requestKey, onTiming) as Promise<PredictResponseDto>;
  }

  feedback(modelId: string, entries: FeedbackEntryDto[], caller: TenantContext): Promise<FeedbackResultDto> {
    return this.mlService.recordFeedback(
      caller,
      modelId,
      entries.map((entry) => ({ prediction_id: entry.prediction_id, actual: entry.actual })),
    );
  }

  metrics(modelId: string, window: string | undefined, caller: TenantContext): Promise<ServingMetricsResponseDto> {
    return this.mlService.getServingMetrics(caller, modelId, window);
  }

  drift(modelId: string, query: DriftQueryDto, caller: TenantContext): Promise<DriftReportResponseDto> {
    return this.mlService.getDrift(caller, modelId, { window: query.window, version: query.version });
  }

  setTraffic(modelId: string, split: TrafficSplitDto, caller: TenantContext): Promise<DeploymentResponseDto> {
    const variants = split.variants.map((variant) => ({ version: variant.version, weight: variant.weight }));
    return this.mlService.setTraffic(caller, modelId, { variants }) as Promise<DeploymentResponseDto>;
  }

  release(modelId: string, release: ReleaseVersionDto, caller: TenantContext): Promise<DeploymentResponseDto> {
    const body = { version: release.version, stage: release.stage, alias: release.alias };
    return this.mlService.releaseVersion(caller, modelId, body) as Promise<DeploymentResponseDto>;
  }

  rollback(modelId: string, caller: TenantContext): Promise<DeploymentResponseDto> {
    return this.mlService.rollbackDeployment(caller, modelId) as Promise<DeploymentResponseDto>;
  }

  /**
   * Queues a batch prediction (a job of the ML Service's runner: it counts in the tenant's job
   * quota). 400 naming `model_name` when both a deployment and a registered model are given; the
   * ML Service answers 422 naming `dataset.query`/`dataset.table` for a source it cannot read.
   * `dataset.tenant_id` was checked against the caller by the guard and is not sent on.
   */
  submitBatch(body: CreateBatchPredictionDto, idempotencyKey: string, caller: TenantContext): Promise<BatchPredictionResponseDto> {
    if (body.model_id !== undefined && body.model_name !== undefined) {
      throw new FieldErrorsException(HttpStatus.BAD_REQUEST, [{ field: 'model_name', message: 'give model_id, or model_name with version, not both' }]);
    }
    const { source, query, table } = body.dataset;
    return this.mlService.createBatchPrediction(
      caller,
      {
        model_id: body.model_id,
        model_name: body.model_name,
        version: body.version,
        dataset: { source, query, table },
        output_table: body.output_table,
        chunk_rows: body.chunk_rows,
      },
      idempotencyKey,
    );
  }

  getBatch(batchId: string, caller: TenantContext): Promise<BatchPredictionResponseDto> {
    return this.mlService.getBatchPrediction(caller, batchId);
  }

  cancelBatch(batchId: string, caller: TenantContext): Promise<BatchPredictionResponseDto> {
    return this.mlService.cancelBatchPrediction(caller, batchId);
  }
}
