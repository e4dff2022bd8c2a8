import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

/** A change to a running sweep. */
export class UpdateTuningSweepDto {
  @ApiPropertyOptional({ example: 4, minimum: 1, maximum: 64, description: "Trials running at once from Ray Tune's next step: more start at once, or running ones finish before another starts." })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(64)
  max_concurrent_trials?: number;

  @ApiPropertyOptional({
    example: 32,
    minimum: 1,
    maximum: 1000,
    description:
      "Trials to run in all (grid: passes of the grid), from Ray Tune's next step: raised, the same searcher proposes more; lowered, no trial starts once that many started and the sweep ends when they end. 422 below the trials already started.",
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1000)
  num_samples?: number;
}
