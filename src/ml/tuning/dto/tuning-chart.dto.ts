import { ApiProperty } from '@nestjs/swagger';
import { Matches } from 'class-validator';
import { CHART_NAME_PATTERN, TrainingChartDto } from '@app/ml/training/dto/training-chart.dto';
import { SweepIdParamDto } from '@app/ml/tuning/dto/sweep-id.param.dto';

export class TuningChartParamDto extends SweepIdParamDto {
  @ApiProperty({ example: 'parameter_importance', description: 'A name from GET /api/v1/ml/tuning/{sweep_id}/charts.' })
  @Matches(CHART_NAME_PATTERN, { message: 'name must be a chart name (lowercase letters, digits, underscore)' })
  name!: string;
}

export class TuningChartListResponseDto {
  @ApiProperty({ example: 'sweep-3f9a1c2b4d5e' })
  sweep_id!: string;

  @ApiProperty({
    type: [TrainingChartDto],
    description:
      'In display order: optimisation_history, parallel_coordinates, parameter_importance (fANOVA over the trials that ran to the end; left out with fewer than two), learning_curves (each trial by round, a cross where early stopping cut it).',
  })
  charts!: TrainingChartDto[];
}
