import { ApiProperty } from '@nestjs/swagger';
import { Matches } from 'class-validator';
import { TrainingJobIdParamDto } from '@app/ml/training/dto/training-job-id.param.dto';

/** The names the ML Service gives charts; anything else (dots, slashes) never reaches it. */
export const CHART_NAME_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;

export class TrainingChartParamDto extends TrainingJobIdParamDto {
  @ApiProperty({ example: 'confusion_matrix', description: 'A name from GET /api/v1/ml/train/{job_id}/charts.' })
  @Matches(CHART_NAME_PATTERN, { message: 'name must be a chart name (lowercase letters, digits, underscore)' })
  name!: string;
}

export class TrainingChartDto {
  @ApiProperty({ example: 'roc_curve', description: 'The name to fetch it by.' })
  name!: string;

  @ApiProperty({ example: 'ROC curve (AUC = 0.912)' })
  title!: string;

  @ApiProperty({
    type: [String],
    example: ['image/png', 'application/vnd.vegalite.v5+json'],
    description: 'What Accept may ask for: the PNG, or the Vega-Lite spec (also as application/json) it was drawn from.',
  })
  media_types!: string[];
}

export class TrainingChartListResponseDto {
  @ApiProperty({ example: 'train-3f9a1c2b4d5e' })
  job_id!: string;

  @ApiProperty({
    type: [TrainingChartDto],
    description:
      'In display order. Classification: confusion_matrix, roc_curve, precision_recall; regression: residuals, predicted_vs_actual; all: feature_importance, training_curve (when the algorithm reports iterations).',
  })
  charts!: TrainingChartDto[];
}
