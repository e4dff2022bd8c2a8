import { Injectable } from '@nestjs/common';
import type { TenantContext } from '@app/common/tenant/tenant-context';
import { MLServiceClient } from '@app/ml/client/ml-service.client';
import type { DeploymentCreate } from '@app/ml/client/ml-service.types';
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

  predict(modelId: string, features: unknown, requestKey: string | undefined, caller: TenantContext): Promise<PredictResponseDto> {
    return this.mlService.predict(caller, modelId, features, requestKey) as Promise<PredictResponseDto>;
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
}
