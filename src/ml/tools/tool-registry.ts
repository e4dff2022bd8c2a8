import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DatasetsController } from '@app/ml/datasets/datasets.controller';
import { DatasetsService } from '@app/ml/datasets/datasets.service';
import { DatasetTableParamDto } from '@app/ml/datasets/dto/dataset-table.param.dto';
import { CreateComparisonDto, ComparisonIdParamDto } from '@app/ml/eda/dto/compare.dto';
import { CreateProfileDto } from '@app/ml/eda/dto/create-profile.dto';
import { ListProfilesQueryDto } from '@app/ml/eda/dto/list-profiles-query.dto';
import { ProfileIdParamDto } from '@app/ml/eda/dto/profile-id.param.dto';
import { EdaComparisonsController } from '@app/ml/eda/eda-comparisons.controller';
import { EdaController } from '@app/ml/eda/eda.controller';
import { EdaService } from '@app/ml/eda/eda.service';
import { CreateFeatureSetDto } from '@app/ml/features/dto/create-feature-set.dto';
import { CreateTrainingSetDto } from '@app/ml/features/dto/create-training-set.dto';
import { FeatureImportanceQueryDto } from '@app/ml/features/dto/feature-importance.dto';
import { FeatureSetNameParamDto, FeatureSetVersionParamDto } from '@app/ml/features/dto/feature-set-params.dto';
import { MaterializeFeatureSetDto, OnlineFeaturesDto } from '@app/ml/features/dto/online-features.dto';
import { FeaturesController } from '@app/ml/features/features.controller';
import { FeaturesService } from '@app/ml/features/features.service';
import { JobIdParamDto } from '@app/ml/jobs/dto/job-response.dto';
import { ListJobsQueryDto } from '@app/ml/jobs/dto/list-jobs-query.dto';
import { JobsController } from '@app/ml/jobs/jobs.controller';
import { JobsService } from '@app/ml/jobs/jobs.service';
import { ModelAliasParamDto, ModelNameParamDto, ModelVersionParamDto } from '@app/ml/registry/dto/registry-params.dto';
import { DeleteModelQueryDto, RegisterModelVersionDto, SearchModelsQueryDto, SetAliasDto, TransitionStageDto, UpdateRegistryEntryDto } from '@app/ml/registry/dto/registry-requests.dto';
import { RegistryController } from '@app/ml/registry/registry.controller';
import { RegistryService } from '@app/ml/registry/registry.service';
import { CreateDeploymentDto, DriftQueryDto, FeedbackEntryDto, ModelIdParamDto, ReleaseVersionDto, TrafficSplitDto, WindowQueryDto } from '@app/ml/serving/dto/serving-requests.dto';
import { BatchIdParamDto, CreateBatchPredictionDto } from '@app/ml/serving/dto/batch-prediction.dto';
import { ServingController } from '@app/ml/serving/serving.controller';
import { ServingService } from '@app/ml/serving/serving.service';
import { CompareRunsDto, CreateExperimentDto, ListArtifactsQueryDto, SearchRunsDto } from '@app/ml/tracking/dto/tracking-requests.dto';
import { ExperimentIdParamDto, MetricHistoryParamDto, ModelArtifactIdParamDto, RunIdParamDto } from '@app/ml/tracking/dto/tracking-ids';
import { TrackingController } from '@app/ml/tracking/tracking.controller';
import { TrackingService } from '@app/ml/tracking/tracking.service';
import { CreateTrainingJobDto } from '@app/ml/training/dto/create-training-job.dto';
import { TrainingJobIdParamDto } from '@app/ml/training/dto/training-job-id.param.dto';
import { TrainingController } from '@app/ml/training/training.controller';
import { TrainingService } from '@app/ml/training/training.service';
import { CreateTuningSweepDto } from '@app/ml/tuning/dto/create-tuning-sweep.dto';
import { CreateTuningSweepFromBaseDto } from '@app/ml/tuning/dto/create-tuning-sweep-from-base.dto';
import { SweepIdParamDto } from '@app/ml/tuning/dto/sweep-id.param.dto';
import { TrainBestDto } from '@app/ml/tuning/dto/train-best.dto';
import { TuningController } from '@app/ml/tuning/tuning.controller';
import { TuningService } from '@app/ml/tuning/tuning.service';
import { defineTool, type MlTool } from '@app/ml/tools/ml-tool';

/**
 * The ML API as tools, each operation once (issue 16): what the MCP server offers and what chat
 * agents will act through. Left out: uploads (multipart files), Server-Sent Event streams and binary
 * downloads (charts, reports, artifacts), which are not JSON calls; a tool result links to them by id.
 * Submissions get a fresh idempotency key per call, as REST does without an Idempotency-Key header.
 */
@Injectable()
export class ToolRegistry {
  readonly tools: readonly MlTool[];
  private readonly byName: ReadonlyMap<string, MlTool>;

  constructor(
    datasets: DatasetsService,
    training: TrainingService,
    tuning: TuningService,
    jobs: JobsService,
    eda: EdaService,
    registry: RegistryService,
    serving: ServingService,
    tracking: TrackingService,
    features: FeaturesService,
  ) {
    this.tools = [
      // Datasets
      defineTool({ operation: [DatasetsController, 'listDatasets'], risk: 'read', run: (_input, caller) => datasets.list(caller) }),
      defineTool({ operation: [DatasetsController, 'getDataset'], risk: 'read', params: DatasetTableParamDto, run: ({ params }, caller) => datasets.get(params.table, caller) }),
      defineTool({ operation: [DatasetsController, 'deleteDataset'], risk: 'destructive', params: DatasetTableParamDto, run: ({ params }, caller) => datasets.delete(params.table, caller) }),
      // Training
      defineTool({ operation: [TrainingController, 'listTrainingAlgorithms'], risk: 'read', run: (_input, caller) => training.listAlgorithms(caller) }),
      defineTool({ operation: [TrainingController, 'submitTrainingJob'], risk: 'write', body: CreateTrainingJobDto, run: ({ body }, caller) => training.submit(body, caller, randomUUID()) }),
      defineTool({ operation: [TrainingController, 'getTrainingJob'], risk: 'read', params: TrainingJobIdParamDto, run: ({ params }, caller) => training.get(params.job_id, caller) }),
      defineTool({ operation: [TrainingController, 'listTrainingJobs'], risk: 'read', query: ListJobsQueryDto, run: ({ query }, caller) => training.list(query, caller) }),
      defineTool({ operation: [TrainingController, 'cancelTrainingJob'], risk: 'destructive', params: TrainingJobIdParamDto, run: ({ params }, caller) => training.cancel(params.job_id, caller) }),
      defineTool({ operation: [TrainingController, 'listTrainingCharts'], risk: 'read', params: TrainingJobIdParamDto, run: ({ params }, caller) => training.listCharts(params.job_id, caller) }),
      // Tuning
      defineTool({ operation: [TuningController, 'listDefaultSearchSpaces'], risk: 'read', run: (_input, caller) => tuning.listSpaces(caller) }),
      defineTool({ operation: [TuningController, 'submitTuningSweep'], risk: 'write', body: CreateTuningSweepDto, run: ({ body }, caller) => tuning.submit(body, caller, randomUUID()) }),
      defineTool({
        operation: [TuningController, 'submitTuningSweepFromBase'],
        risk: 'write',
        body: CreateTuningSweepFromBaseDto,
        run: ({ body }, caller) => tuning.submitFromBase(body, caller, randomUUID()),
      }),
      defineTool({ operation: [TuningController, 'getTuningSweep'], risk: 'read', params: SweepIdParamDto, run: ({ params }, caller) => tuning.get(params.sweep_id, caller) }),
      defineTool({ operation: [TuningController, 'listTuningSweeps'], risk: 'read', query: ListJobsQueryDto, run: ({ query }, caller) => tuning.list(query, caller) }),
      defineTool({ operation: [TuningController, 'cancelTuningSweep'], risk: 'destructive', params: SweepIdParamDto, run: ({ params }, caller) => tuning.cancel(params.sweep_id, caller) }),
      defineTool({ operation: [TuningController, 'listTuningCharts'], risk: 'read', params: SweepIdParamDto, run: ({ params }, caller) => tuning.listCharts(params.sweep_id, caller) }),
      defineTool({ operation: [TuningController, 'trainBestTrial'], risk: 'write', params: SweepIdParamDto, body: TrainBestDto, run: ({ params, body }, caller) => tuning.trainBest(params.sweep_id, body, caller, randomUUID()) }),
      // Jobs of any kind
      defineTool({ operation: [JobsController, 'getJob'], risk: 'read', params: JobIdParamDto, run: ({ params }, caller) => jobs.get(params.job_id, caller) }),
      defineTool({ operation: [JobsController, 'cancelJob'], risk: 'destructive', params: JobIdParamDto, run: ({ params }, caller) => jobs.cancel(params.job_id, caller) }),
      // Profiles and comparisons; a large table's profile answers a `profiling` job, as REST's 202 does
      defineTool({
        operation: [EdaController, 'createProfile'],
        risk: 'write',
        body: CreateProfileDto,
        run: async ({ body }, caller) => {
          const answer = await eda.create(body, false, caller);
          return 'profile' in answer ? answer.profile : answer.job;
        },
      }),
      defineTool({ operation: [EdaController, 'listProfiles'], risk: 'read', query: ListProfilesQueryDto, run: ({ query }, caller) => eda.list(query.limit, caller) }),
      defineTool({ operation: [EdaController, 'getProfile'], risk: 'read', params: ProfileIdParamDto, run: ({ params }, caller) => eda.get(params.profile_id, caller) }),
      defineTool({ operation: [EdaController, 'listProfileCharts'], risk: 'read', params: ProfileIdParamDto, run: ({ params }, caller) => eda.listCharts(params.profile_id, caller) }),
      defineTool({ operation: [EdaComparisonsController, 'createComparison'], risk: 'write', body: CreateComparisonDto, run: ({ body }, caller) => eda.compare(body, caller) }),
      defineTool({ operation: [EdaComparisonsController, 'listComparisons'], risk: 'read', query: ListProfilesQueryDto, run: ({ query }, caller) => eda.listComparisons(query.limit, caller) }),
      defineTool({ operation: [EdaComparisonsController, 'getComparison'], risk: 'read', params: ComparisonIdParamDto, run: ({ params }, caller) => eda.getComparison(params.comparison_id, caller) }),
      // Registry
      defineTool({ operation: [RegistryController, 'searchRegisteredModels'], risk: 'read', query: SearchModelsQueryDto, run: ({ query }, caller) => registry.searchModels(query, caller) }),
      defineTool({ operation: [RegistryController, 'getRegisteredModel'], risk: 'read', params: ModelNameParamDto, run: ({ params }, caller) => registry.getModel(params.name, caller) }),
      defineTool({ operation: [RegistryController, 'getModelVersion'], risk: 'read', params: ModelVersionParamDto, run: ({ params }, caller) => registry.getVersion(params.name, params.version, caller) }),
      defineTool({
        operation: [RegistryController, 'registerModelVersion'],
        risk: 'write',
        params: ModelNameParamDto,
        body: RegisterModelVersionDto,
        run: ({ params, body }, caller) => registry.registerVersion(params.name, body, caller),
      }),
      defineTool({ operation: [RegistryController, 'updateRegisteredModel'], risk: 'write', params: ModelNameParamDto, body: UpdateRegistryEntryDto, run: ({ params, body }, caller) => registry.updateModel(params.name, body, caller) }),
      defineTool({
        operation: [RegistryController, 'updateModelVersion'],
        risk: 'write',
        params: ModelVersionParamDto,
        body: UpdateRegistryEntryDto,
        run: ({ params, body }, caller) => registry.updateVersion(params.name, params.version, body, caller),
      }),
      defineTool({ operation: [RegistryController, 'getModelAudit'], risk: 'read', params: ModelNameParamDto, run: ({ params }, caller) => registry.getAudit(params.name, caller) }),
      defineTool({
        operation: [RegistryController, 'transitionModelVersionStage'],
        risk: 'destructive',
        params: ModelVersionParamDto,
        body: TransitionStageDto,
        run: ({ params, body }, caller) => registry.transitionStage(params.name, params.version, body, caller),
      }),
      defineTool({ operation: [RegistryController, 'setModelAlias'], risk: 'destructive', params: ModelAliasParamDto, body: SetAliasDto, run: ({ params, body }, caller) => registry.setAlias(params.name, params.alias, body, caller) }),
      defineTool({ operation: [RegistryController, 'deleteModelAlias'], risk: 'destructive', params: ModelAliasParamDto, run: ({ params }, caller) => registry.deleteAlias(params.name, params.alias, caller) }),
      defineTool({ operation: [RegistryController, 'deleteModelVersion'], risk: 'destructive', params: ModelVersionParamDto, run: ({ params }, caller) => registry.deleteVersion(params.name, params.version, caller) }),
      defineTool({ operation: [RegistryController, 'deleteRegisteredModel'], risk: 'destructive', params: ModelNameParamDto, query: DeleteModelQueryDto, run: ({ params, query }, caller) => registry.deleteModel(params.name, query, caller) }),
      // Serving
      defineTool({ operation: [ServingController, 'listDeployments'], risk: 'read', run: (_input, caller) => serving.list(caller) }),
      defineTool({ operation: [ServingController, 'getDeployment'], risk: 'read', params: ModelIdParamDto, run: ({ params }, caller) => serving.get(params.model_id, caller) }),
      defineTool({ operation: [ServingController, 'createDeployment'], risk: 'destructive', body: CreateDeploymentDto, run: ({ body }, caller) => serving.deploy(body, caller) }),
      defineTool({ operation: [ServingController, 'deleteDeployment'], risk: 'destructive', params: ModelIdParamDto, run: ({ params }, caller) => serving.undeploy(params.model_id, caller) }),
      defineTool({
        operation: [ServingController, 'predict'],
        // Predictions are logged for monitoring, but change no model, deployment or data.
        risk: 'read',
        params: ModelIdParamDto,
        bodyArgument: { name: 'input', description: 'One feature record ({"tenure": 12, ...}), or {"instances": [...]}, or {"periods": n} for a forecaster: the REST body of predict.' },
        run: ({ params, body }, caller) => serving.predict(params.model_id, body, undefined, caller),
      }),
      defineTool({
        operation: [ServingController, 'recordFeedback'],
        risk: 'write',
        params: ModelIdParamDto,
        bodyArgument: { name: 'entries', items: FeedbackEntryDto, description: 'Ground truth for logged predictions: the REST body of feedback.' },
        run: ({ params, body }, caller) => serving.feedback(params.model_id, body as FeedbackEntryDto[], caller),
      }),
      defineTool({ operation: [ServingController, 'getServingMetrics'], risk: 'read', params: ModelIdParamDto, query: WindowQueryDto, run: ({ params, query }, caller) => serving.metrics(params.model_id, query.window, caller) }),
      defineTool({ operation: [ServingController, 'getDrift'], risk: 'read', params: ModelIdParamDto, query: DriftQueryDto, run: ({ params, query }, caller) => serving.drift(params.model_id, query, caller) }),
      defineTool({ operation: [ServingController, 'setTraffic'], risk: 'destructive', params: ModelIdParamDto, body: TrafficSplitDto, run: ({ params, body }, caller) => serving.setTraffic(params.model_id, body, caller) }),
      defineTool({ operation: [ServingController, 'releaseVersion'], risk: 'destructive', params: ModelIdParamDto, body: ReleaseVersionDto, run: ({ params, body }, caller) => serving.release(params.model_id, body, caller) }),
      defineTool({ operation: [ServingController, 'rollbackDeployment'], risk: 'destructive', params: ModelIdParamDto, run: ({ params }, caller) => serving.rollback(params.model_id, caller) }),
      defineTool({ operation: [ServingController, 'submitBatch'], risk: 'write', body: CreateBatchPredictionDto, run: ({ body }, caller) => serving.submitBatch(body, randomUUID(), caller) }),
      defineTool({ operation: [ServingController, 'getBatch'], risk: 'read', params: BatchIdParamDto, run: ({ params }, caller) => serving.getBatch(params.batch_id, caller) }),
      defineTool({ operation: [ServingController, 'cancelBatch'], risk: 'destructive', params: BatchIdParamDto, run: ({ params }, caller) => serving.cancelBatch(params.batch_id, caller) }),
      // Tracking
      defineTool({ operation: [TrackingController, 'listExperiments'], risk: 'read', run: (_input, caller) => tracking.listExperiments(caller) }),
      defineTool({ operation: [TrackingController, 'getExperiment'], risk: 'read', params: ExperimentIdParamDto, run: ({ params }, caller) => tracking.getExperiment(params.experiment_id, caller) }),
      defineTool({ operation: [TrackingController, 'searchRuns'], risk: 'read', body: SearchRunsDto, run: ({ body }, caller) => tracking.searchRuns(body, caller) }),
      defineTool({ operation: [TrackingController, 'compareRuns'], risk: 'read', body: CompareRunsDto, run: ({ body }, caller) => tracking.compareRuns(body.run_ids, caller) }),
      defineTool({ operation: [TrackingController, 'createExperiment'], risk: 'write', body: CreateExperimentDto, run: ({ body }, caller) => tracking.createExperiment(body, caller) }),
      defineTool({ operation: [TrackingController, 'getMetricHistory'], risk: 'read', params: MetricHistoryParamDto, run: ({ params }, caller) => tracking.getMetricHistory(params.run_id, params.metric_key, caller) }),
      defineTool({ operation: [TrackingController, 'listArtifacts'], risk: 'read', params: RunIdParamDto, query: ListArtifactsQueryDto, run: ({ params, query }, caller) => tracking.listArtifacts(params.run_id, query.path, caller) }),
      defineTool({ operation: [TrackingController, 'getLoggedModel'], risk: 'read', params: ModelArtifactIdParamDto, run: ({ params }, caller) => tracking.getLoggedModel(params.model_artifact_id, caller) }),
      defineTool({
        operation: [TrackingController, 'listModelArtifacts'],
        risk: 'read',
        params: ModelArtifactIdParamDto,
        query: ListArtifactsQueryDto,
        run: ({ params, query }, caller) => tracking.listModelArtifacts(params.model_artifact_id, query.path, caller),
      }),
      defineTool({ operation: [TrackingController, 'getRun'], risk: 'read', params: RunIdParamDto, run: ({ params }, caller) => tracking.getRun(params.run_id, caller) }),
      // Feature sets
      defineTool({
        operation: [FeaturesController, 'defineFeatureSet'],
        risk: 'write',
        body: CreateFeatureSetDto,
        run: async ({ body }, caller) => (await features.define(body, caller)).version,
      }),
      defineTool({
        operation: [FeaturesController, 'createTrainingSet'],
        risk: 'write',
        params: FeatureSetVersionParamDto,
        body: CreateTrainingSetDto,
        run: ({ params, body }, caller) => features.createTrainingSet(params.name, params.version, body, caller),
      }),
      defineTool({ operation: [FeaturesController, 'listFeatureSets'], risk: 'read', run: (_input, caller) => features.list(caller) }),
      defineTool({ operation: [FeaturesController, 'getFeatureSet'], risk: 'read', params: FeatureSetNameParamDto, run: ({ params }, caller) => features.get(params.name, undefined, caller) }),
      defineTool({ operation: [FeaturesController, 'listFeatureSetVersions'], risk: 'read', params: FeatureSetNameParamDto, run: ({ params }, caller) => features.listVersions(params.name, caller) }),
      defineTool({ operation: [FeaturesController, 'getFeatureSetVersion'], risk: 'read', params: FeatureSetVersionParamDto, run: ({ params }, caller) => features.get(params.name, params.version, caller) }),
      defineTool({ operation: [FeaturesController, 'getFeatureSetLineage'], risk: 'read', params: FeatureSetVersionParamDto, run: ({ params }, caller) => features.lineage(params.name, params.version, caller) }),
      defineTool({
        operation: [FeaturesController, 'materializeFeatureSetVersion'],
        risk: 'write',
        params: FeatureSetVersionParamDto,
        body: MaterializeFeatureSetDto,
        run: ({ params, body }, caller) => features.materialize(params.name, params.version, body, caller, randomUUID()),
      }),
      defineTool({ operation: [FeaturesController, 'getOnlineFeatures'], risk: 'read', body: OnlineFeaturesDto, run: ({ body }, caller) => features.online(body, caller) }),
      defineTool({ operation: [FeaturesController, 'getFeatureImportance'], risk: 'read', query: FeatureImportanceQueryDto, run: ({ query }, caller) => features.importance(query, caller) }),
    ];
    this.byName = new Map(this.tools.map((tool) => [tool.name, tool]));
  }

  /** The tool of that name, or undefined. */
  get(name: string): MlTool | undefined {
    return this.byName.get(name);
  }
}
