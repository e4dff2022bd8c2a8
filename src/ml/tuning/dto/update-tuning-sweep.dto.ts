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
    description: "Refused with 422: Ray Tune's searchers take the number of trials when the run starts and offer no way to change it while it runs.",
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1000)
  num_samples?: number;
}
