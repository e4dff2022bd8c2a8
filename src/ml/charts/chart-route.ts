import { applyDecorators, Header, StreamableFile } from '@nestjs/common';
import { ApiOkResponse, ApiProduces, ApiResponse } from '@nestjs/swagger';
import { ErrorResponseDto } from '@app/common/filters/error-response.dto';
import type { ArtifactContent } from '@app/ml/client/ml-service.types';

/**
 * The Swagger description and caching header every "one chart" route shares (training jobs, sweeps, profiles,
 * comparisons): the PNG or its Vega-Lite spec chosen by Accept, `Vary: Accept`, and 400/404/406 naming
 * `subject` ("job", "sweep", "profile", "comparison"). A route whose subject must have completed adds its 409.
 */
export function ApiChartRoute(subject: string): MethodDecorator {
  return applyDecorators(
    ApiProduces('image/png', 'application/json'),
    Header('Vary', 'Accept'),
    ApiOkResponse({
      description: 'The PNG, or the Vega-Lite spec.',
      content: {
        'image/png': { schema: { type: 'string', format: 'binary' } },
        'application/json': { schema: { type: 'object', description: 'A Vega-Lite v5 specification.' } },
      },
    }),
    ApiResponse({ status: 400, type: ErrorResponseDto, description: `The ${subject} id or chart name is malformed.` }),
    ApiResponse({ status: 404, type: ErrorResponseDto, description: `No such ${subject} for this tenant, or no chart of that name.` }),
    ApiResponse({ status: 406, type: ErrorResponseDto, description: 'Accept allows neither image/png nor JSON.' }),
  );
}

/** A chart's bytes as the route's body, with the media type the ML Service answered. */
export function chartFile(chart: ArtifactContent): StreamableFile {
  return new StreamableFile(chart.content, { type: chart.contentType, length: chart.content.length });
}
