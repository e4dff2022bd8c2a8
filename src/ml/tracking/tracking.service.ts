import { Injectable } from '@nestjs/common';
import type { TenantContext } from '@app/common/tenant/tenant-context';
import { MLServiceClient } from '@app/ml/client/ml-service.client';
import type { ArtifactContent } from '@app/ml/client/ml-service.types';
import type { CreateExperimentDto, SearchRunsDto } from '@app/ml/tracking/dto/tracking-requests.dto';
import type {
  ArtifactListResponseDto,
  ExperimentListResponseDto,
  ExperimentResponseDto,
  LoggedModelResponseDto,
  MetricHistoryResponseDto,
  RunComparisonResponseDto,
  RunPageResponseDto,
  RunResponseDto,
} from '@app/ml/tracking/dto/tracking-responses.dto';

/**
 * Experiments, runs, metrics and artifacts (issue 4). The ML Service scopes everything to the
 * caller's tenant (another tenant's ids are 404 there); this side checks ids and paths first.
 */
@Injectable()
export class TrackingService {
  constructor(private readonly mlService: MLServiceClient) {}

  createExperiment(experiment: CreateExperimentDto, caller: TenantContext): Promise<ExperimentResponseDto> {
    return this.mlService.createExperiment(caller, { name: experiment.name, tags: experiment.tags });
  }

  listExperiments(caller: TenantContext): Promise<ExperimentListResponseDto> {
    return this.mlService.listExperiments(caller);
  }

  getExperiment(experimentId: string, caller: TenantContext): Promise<ExperimentResponseDto> {
    return this.mlService.getExperiment(caller, experimentId);
  }

  searchRuns(search: SearchRunsDto, caller: TenantContext): Promise<RunPageResponseDto> {
    return this.mlService.searchRuns(caller, {
      experiment_ids: search.experiment_ids,
      filter: search.filter,
      order_by: search.order_by,
      max_results: search.max_results,
      page_token: search.page_token,
    });
  }

  getRun(runId: string, caller: TenantContext): Promise<RunResponseDto> {
    return this.mlService.getRun(caller, runId);
  }

  getMetricHistory(runId: string, metricKey: string, caller: TenantContext): Promise<MetricHistoryResponseDto> {
    return this.mlService.getMetricHistory(caller, runId, metricKey);
  }

  listArtifacts(runId: string, path: string | undefined, caller: TenantContext): Promise<ArtifactListResponseDto> {
    return this.mlService.listArtifacts(caller, runId, path);
  }

  downloadArtifact(runId: string, path: string, caller: TenantContext): Promise<ArtifactContent> {
    return this.mlService.downloadArtifact(caller, runId, path);
  }

  compareRuns(runIds: string[], caller: TenantContext): Promise<RunComparisonResponseDto> {
    return this.mlService.compareRuns(caller, [...new Set(runIds)]);
  }

  getLoggedModel(modelArtifactId: string, caller: TenantContext): Promise<LoggedModelResponseDto> {
    return this.mlService.getLoggedModel(caller, modelArtifactId);
  }

  listModelArtifacts(modelArtifactId: string, path: string | undefined, caller: TenantContext): Promise<ArtifactListResponseDto> {
    return this.mlService.listModelArtifacts(caller, modelArtifactId, path);
  }

  downloadModelArtifact(modelArtifactId: string, path: string, caller: TenantContext): Promise<ArtifactContent> {
    return this.mlService.downloadModelArtifact(caller, modelArtifactId, path);
  }
}
