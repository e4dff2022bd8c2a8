import { ApiProperty } from '@nestjs/swagger';
import type { FeatureSetDefinition, FeatureSetSummary, FeatureSetVersion, TrainingSet } from '@app/ml/client/ml-service.types';
import { CreateFeatureSetDto } from '@app/ml/features/dto/create-feature-set.dto';

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

function toDefinition(definition: FeatureSetDefinition): CreateFeatureSetDto {
  const { source } = definition;
  return {
    name: definition.name,
    description: definition.description ?? '',
    entity: { name: definition.entity.name, join_keys: definition.entity.join_keys },
    source: source.source === 'sql' ? { source: 'sql', query: source.query ?? undefined } : { source: 'table', table: source.table ?? undefined },
    timestamp_column: definition.timestamp_column,
    features: definition.features.map(({ column }) => ({ column })),
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
