import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayNotEmpty, IsDefined, IsOptional, IsString, Matches, MaxLength, ValidateNested } from 'class-validator';
import type { EdaComparison, EdaComparisonList } from '@app/ml/client/ml-service.types';
import { DatasetDto } from '@app/ml/training/dto/create-training-job.dto';

export class CreateComparisonDto {
  @ApiProperty({ type: DatasetDto, description: "The baseline, e.g. a model's training data or last month." })
  @IsDefined()
  @ValidateNested()
  @Type(() => DatasetDto)
  reference!: DatasetDto;

  @ApiProperty({ type: DatasetDto, description: 'The data to check against it, e.g. this month or the rows a model was asked to predict.' })
  @IsDefined()
  @ValidateNested()
  @Type(() => DatasetDto)
  current!: DatasetDto;

  @ApiPropertyOptional({ type: [String], example: ['tenure', 'monthly_charges'], description: "Columns to compare; all of the reference's when unset." })
  @IsOptional()
  @ArrayNotEmpty()
  @ArrayMaxSize(1000)
  @IsString({ each: true })
  @MaxLength(300, { each: true })
  columns?: string[];
}

export class ComparisonIdParamDto {
  @ApiProperty({ example: 'cmp-3f9a1c2b4d5e' })
  @Matches(/^cmp-[0-9a-f]{12}$/, { message: 'comparison_id must look like cmp-<12 hex digits>' })
  comparison_id!: string;
}

export class ComparisonChartParamDto extends ComparisonIdParamDto {
  @ApiProperty({ example: 'drift', description: 'A name from the comparison\'s `charts`: `drift` or `shift_<column>`.' })
  @Matches(/^[a-z][a-z0-9_]{0,63}$/, { message: 'name must be a chart name (lowercase letters, digits, underscore)' })
  name!: string;
}

/**
 * Per column, in serving's drift vocabulary: `psi`, `ks_statistic`, `ks_p_value` (numbers), `chi_square`,
 * `chi_square_p_value` (categories), `wasserstein`, `jensen_shannon`, `drifted`, and the shares per bin for the chart.
 */
export class ComparisonResponseDto implements Required<EdaComparison> {
  @ApiProperty({ example: 'cmp-3f9a1c2b4d5e' }) comparison_id!: string;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
  @ApiProperty({ type: DatasetDto }) reference!: EdaComparison['reference'];
  @ApiProperty({ type: DatasetDto }) current!: EdaComparison['current'];
  @ApiProperty({ example: 5000 }) reference_rows!: number;
  @ApiProperty({ example: 5000 }) current_rows!: number;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'number' }, example: { psi: 0.2, ks_p_value: 0.01, ks_statistic: 0.1 } })
  thresholds!: EdaComparison['thresholds'];
  @ApiProperty({ type: [String], example: ['tenure', 'monthly_charges'] }) drifted_columns!: string[];
  @ApiProperty({ type: 'array', items: { type: 'object', additionalProperties: true } }) columns!: EdaComparison['columns'];
  @ApiProperty({ type: 'array', items: { type: 'object', additionalProperties: true }, description: 'Columns not compared, each with the reason.' })
  skipped!: EdaComparison['skipped'];
  @ApiProperty({ type: [String], example: ['drift', 'shift_tenure'] }) charts!: string[];
}

type ComparisonSummary = EdaComparisonList['comparisons'][number];

export class ComparisonSummaryDto implements Required<ComparisonSummary> {
  @ApiProperty({ example: 'cmp-3f9a1c2b4d5e' }) comparison_id!: string;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
  @ApiProperty({ type: DatasetDto }) reference!: ComparisonSummary['reference'];
  @ApiProperty({ type: DatasetDto }) current!: ComparisonSummary['current'];
  @ApiProperty({ type: [String] }) drifted_columns!: string[];
}

export class ComparisonListResponseDto {
  @ApiProperty({ type: [ComparisonSummaryDto], description: "The caller's comparisons, newest first." })
  comparisons!: ComparisonSummaryDto[];
}
