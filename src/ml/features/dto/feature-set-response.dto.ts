import { ApiProperty } from '@nestjs/swagger';
import type { FeatureSetDefinition, FeatureSetLineage, FeatureSetSummary, FeatureSetVersion, FittedFeature, TrainingSet } from '@app/ml/client/ml-service.types';
import { RegisteredVersionRefDto } from '@app/ml/training/dto/training-job-response.dto';
import { CreateFeatureSetDto, type FeatureDto, type FeatureTransformDto } from '@app/ml/features/dto/create-feature-set.dto';

/** A feature of a version as computed: its output columns and what was fitted on the source when the version was made. */
export class FittedFeatureDto {
  @ApiProperty({ example: 'contract_type' })
  name!: string;

  @ApiProperty({ type: [String], example: ['contract_type_month-to-month', 'contract_type_one-year', 'contract_type_two-year'], description: 'Its columns in a training set (several for one_hot).' })
  columns!: string[];

  @ApiProperty({ nullable: true, type: Number, description: '`standard`: the mean of the source.' })
  mean!: number | null;

  @ApiProperty({ nullable: true, type: Number, description: '`standard`: the population standard deviation of the source.' })
  std!: number | null;

  @ApiProperty({ nullable: true, type: Number, description: '`min_max`: the minimum of the source.' })
  min!: number | null;

  @ApiProperty({ nullable: true, type: Number, description: '`min_max`: the maximum of the source.' })
  max!: number | null;

  @ApiProperty({ nullable: true, type: [String], description: '`one_hot`, `frequency`, `ordinal`: the categories, in order.' })
  categories!: string[] | null;

  @ApiProperty({ nullable: true, type: [Number], description: "`frequency`: each category's share of the source's rows." })
  frequencies!: number[] | null;

  @ApiProperty({ nullable: true, type: [Number], description: '`bin`: the edges.' })
  edges!: number[] | null;
}

/** One immutable version of a feature set, registered in the caller's Feast project. */
export class FeatureSetVersionResponseDto {
  @ApiProperty({ example: 'customer' })
  name!: string;

  @ApiProperty({ example: 1, minimum: 1 })
  version!: number;

  @ApiProperty({ example: '2026-09-01T12:00:00Z' })
  created_at!: string;

  @ApiProperty({ type: CreateFeatureSetDto, description: 'The definition as this version was made; it never changes.' })
  definition!: CreateFeatureSetDto;

  @ApiProperty({ example: 'acme_corp', description: "The caller's Feast project." })
  feast_project!: string;

  @ApiProperty({ example: 'customer_v1', description: 'The Feast feature view of this version.' })
  feast_feature_view!: string;

  @ApiProperty({ type: [FittedFeatureDto], description: 'Per feature, in definition order: its columns and fitted statistics, kept so this version always computes the same way.' })
  fitted!: FittedFeatureDto[];
}

export class FeatureSetVersionListResponseDto {
  @ApiProperty({ type: [FeatureSetVersionResponseDto], description: 'Oldest first.' })
  versions!: FeatureSetVersionResponseDto[];
}

export class FeatureSetSummaryDto {
  @ApiProperty({ example: 'customer' })
  name!: string;

  @ApiProperty({ example: 2 })
  latest_version!: number;

  @ApiProperty({ example: 'Plan and spend of each customer' })
  description!: string;

  @ApiProperty({ example: '2026-09-01T12:00:00Z', description: 'When the first version was made.' })
  created_at!: string;

  @ApiProperty({ example: '2026-09-02T08:30:00Z', description: 'When the latest version was made.' })
  updated_at!: string;
}

export class FeatureSetListResponseDto {
  @ApiProperty({ type: [FeatureSetSummaryDto], description: "The caller's feature sets by name, each with its latest version." })
  feature_sets!: FeatureSetSummaryDto[];
}

export class TrainingSetResponseDto {
  @ApiProperty({ example: 'training_sets.churn_training', description: "Where the frame was written in the caller's warehouse; train on it as a table." })
  table!: string;

  @ApiProperty({ example: 5000 })
  row_count!: number;

  @ApiProperty({ type: [String], example: ['customer_id', 'as_of', 'churned', 'monthly_charges'], description: "The entity rows' columns as given, then the features." })
  columns!: string[];

  @ApiProperty({ example: 'customer' })
  feature_set!: string;

  @ApiProperty({ example: 1 })
  version!: number;
}

/** A training job that trained on the feature set version, and the registered model versions made from it. */
export class FeatureSetUseDto {
  @ApiProperty({ example: 'train-3f9a1c2b4d5e' })
  job_id!: string;

  @ApiProperty({ example: 'churn-from-features' })
  name!: string;

  @ApiProperty({ example: 'completed' })
  status!: string;

  @ApiProperty({ example: '2026-09-01T12:00:00Z' })
  created_at!: string;

  @ApiProperty({ nullable: true, type: String })
  mlflow_run_id!: string | null;

  @ApiProperty({ type: [RegisteredVersionRefDto], description: "The caller's registered model versions made from the job's run." })
  registered_versions!: RegisteredVersionRefDto[];
}

/** Which jobs and models used a feature set version (each job, run and registered version also names the version it used). */
export class FeatureSetLineageResponseDto {
  @ApiProperty({ example: 'customer' })
  name!: string;

  @ApiProperty({ example: 1 })
  version!: number;

  @ApiProperty({ type: [FeatureSetUseDto], description: "Newest first, among the caller's latest 1,000 training jobs." })
  training_jobs!: FeatureSetUseDto[];
}

export function toFeatureSetLineage(lineage: FeatureSetLineage): FeatureSetLineageResponseDto {
  return {
    name: lineage.name,
    version: lineage.version,
    training_jobs: lineage.training_jobs.map((job) => ({
      job_id: job.job_id,
      name: job.name,
      status: job.status,
      created_at: job.created_at,
      mlflow_run_id: job.mlflow_run_id,
      registered_versions: job.registered_versions.map(({ model_name, version }) => ({ model_name, version })),
    })),
  };
}

function toDefinition(definition: FeatureSetDefinition): CreateFeatureSetDto {
  const { source } = definition;
  return {
    name: definition.name,
    description: definition.description ?? '',
    entity: { name: definition.entity.name, join_keys: definition.entity.join_keys },
    source: source.source === 'sql' ? { source: 'sql', query: source.query ?? undefined } : { source: 'table', table: source.table ?? undefined },
    timestamp_column: definition.timestamp_column,
    features: definition.features.map(toFeature),
  };
}

function toFeature({ column, name, transform }: FeatureSetDefinition['features'][number]): FeatureDto {
  const feature: FeatureDto = {};
  if (column != null) {
    feature.column = column;
  }
  if (name != null) {
    feature.name = name;
  }
  if (transform != null) {
    // Only the fields the transform has: the ML Service answers the others as null.
    feature.transform = Object.fromEntries(Object.entries(transform).filter(([, value]) => value !== null)) as unknown as FeatureTransformDto;
  }
  return feature;
}

function toFitted(fitted: FittedFeature): FittedFeatureDto {
  return {
    name: fitted.name,
    columns: fitted.columns,
    mean: fitted.mean ?? null,
    std: fitted.std ?? null,
    min: fitted.min ?? null,
    max: fitted.max ?? null,
    categories: fitted.categories ?? null,
    frequencies: fitted.frequencies ?? null,
    edges: fitted.edges ?? null,
  };
}

/** The ML Service's version in this API's shape; an explicit copy so this API changes only on purpose. */
export function toFeatureSetVersionResponse(version: FeatureSetVersion): FeatureSetVersionResponseDto {
  return {
    name: version.name,
    version: version.version,
    created_at: version.created_at,
    definition: toDefinition(version.definition),
    feast_project: version.feast_project,
    feast_feature_view: version.feast_feature_view,
    fitted: (version.fitted ?? []).map(toFitted),
  };
}

export function toFeatureSetSummary(summary: FeatureSetSummary): FeatureSetSummaryDto {
  return {
    name: summary.name,
    latest_version: summary.latest_version,
    description: summary.description,
    created_at: summary.created_at,
    updated_at: summary.updated_at,
  };
}

export function toTrainingSetResponse(set: TrainingSet): TrainingSetResponseDto {
  return { table: set.table, row_count: set.row_count, columns: set.columns, feature_set: set.feature_set, version: set.version };
}
