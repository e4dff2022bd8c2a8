import { Body, Controller, Get, Headers, HttpCode, HttpStatus, Param, Post, Query, StreamableFile } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ErrorResponseDto } from '@app/common/filters/error-response.dto';
import { CallerTenant, type TenantContext } from '@app/common/tenant/tenant-context';
import {
  ComparisonChartParamDto,
  ComparisonIdParamDto,
  ComparisonListResponseDto,
  ComparisonResponseDto,
  CreateComparisonDto,
} from '@app/ml/eda/dto/compare.dto';
import { ListProfilesQueryDto } from '@app/ml/eda/dto/list-profiles-query.dto';
import { EdaService } from '@app/ml/eda/eda.service';
import { TenantScopedMlApi } from '@app/ml/ml-api.decorator';
import { ApiChartRoute, chartFile } from '@app/ml/charts/chart-route';

@ApiTags('eda')
@TenantScopedMlApi()
@Controller('api/v1/ml/eda/comparisons')
export class EdaComparisonsController {
  constructor(private readonly eda: EdaService) {}

  @Post()
  @HttpCode(HttpStatus.CREATED)
  @ApiOperation({
    summary: 'Compare two tables or queries',
    description:
      "Per column: PSI, KS (numbers) or chi-square (categories), Wasserstein and Jensen-Shannon, and `drifted` by serving's drift thresholds (PSI >= 0.2, or KS p < 0.01 with D >= 0.1); computed in the caller's warehouse and stored.",
  })
  @ApiCreatedResponse({ type: ComparisonResponseDto })
  @ApiResponse({ status: 400, type: ErrorResponseDto, description: 'A field is malformed; the message names it.' })
  @ApiResponse({ status: 403, type: ErrorResponseDto, description: '`reference.tenant_id` or `current.tenant_id` is another tenant.' })
  @ApiResponse({ status: 422, type: ErrorResponseDto, description: 'A table or query cannot be read; the field names which.' })
  createComparison(@Body() body: CreateComparisonDto, @CallerTenant() caller: TenantContext): Promise<ComparisonResponseDto> {
    return this.eda.compare(body, caller);
  }

  @Get()
  @ApiOperation({ summary: "List the caller's comparisons", description: 'Newest first, with the columns that drifted.' })
  @ApiOkResponse({ type: ComparisonListResponseDto })
  listComparisons(@Query() query: ListProfilesQueryDto, @CallerTenant() caller: TenantContext): Promise<ComparisonListResponseDto> {
    return this.eda.listComparisons(query.limit, caller);
  }

  @Get(':comparison_id')
  @ApiOperation({ summary: 'Get a stored comparison' })
  @ApiOkResponse({ type: ComparisonResponseDto })
  @ApiResponse({ status: 400, type: ErrorResponseDto, description: 'The comparison id is malformed.' })
  @ApiResponse({ status: 404, type: ErrorResponseDto, description: 'No such comparison for this tenant.' })
  getComparison(@Param() params: ComparisonIdParamDto, @CallerTenant() caller: TenantContext): Promise<ComparisonResponseDto> {
    return this.eda.getComparison(params.comparison_id, caller);
  }

  @Get(':comparison_id/charts/:name')
  @ApiOperation({ summary: 'Get one chart of a comparison', description: '`drift` (PSI per column) or `shift_<column>`; `Accept: image/png` for the picture, JSON for the Vega-Lite spec.' })
  @ApiChartRoute('comparison')
  async getComparisonChart(
    @Param() params: ComparisonChartParamDto,
    @Headers('accept') accept: string | undefined,
    @CallerTenant() caller: TenantContext,
  ): Promise<StreamableFile> {
    const chart = await this.eda.getComparisonChart(params.comparison_id, params.name, accept, caller);
    return chartFile(chart);
  }
}
