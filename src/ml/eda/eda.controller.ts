import { Body, Controller, Get, Headers, HttpCode, HttpStatus, Param, Post, Query, Res, StreamableFile } from '@nestjs/common';
import { ApiAcceptedResponse, ApiCreatedResponse, ApiHeader, ApiOkResponse, ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ErrorResponseDto } from '@app/common/filters/error-response.dto';
import type { HttpReplyHeaders } from '@app/common/http/node-http';
import { CallerTenant, type TenantContext } from '@app/common/tenant/tenant-context';
import { CreateProfileDto } from '@app/ml/eda/dto/create-profile.dto';
import { ListProfilesQueryDto } from '@app/ml/eda/dto/list-profiles-query.dto';
import { ProfileChartParamDto, ProfileIdParamDto } from '@app/ml/eda/dto/profile-id.param.dto';
import { ProfileChartListResponseDto, ProfileListResponseDto, ProfileResponseDto } from '@app/ml/eda/dto/profile-response.dto';
import { EdaService } from '@app/ml/eda/eda.service';
import { JobResponseDto } from '@app/ml/jobs/dto/job-response.dto';
import { TenantScopedMlApi } from '@app/ml/ml-api.decorator';
import { ApiChartRoute, chartFile } from '@app/ml/charts/chart-route';

@ApiTags('eda')
@TenantScopedMlApi()
@Controller('api/v1/ml/eda/profiles')
export class EdaController {
  constructor(private readonly eda: EdaService) {}

  @Post()
  @HttpCode(HttpStatus.CREATED)
  @ApiOperation({
    summary: 'Profile a table or query',
    description:
      "Statistics per column, correlations, alerts (ydata-profiling's names) and, with `target_column`, each feature's association with the target, computed in the caller's DuckDB warehouse; stored and listed afterwards. Every row unless `sample` is given. A large table (more cells than the ML Service's MLS_EDA_SYNC_MAX_CELLS, 5 million by default), or any table with `Prefer: respond-async`, becomes a `profiling` job instead (202): follow `Location` (/api/v1/ml/jobs/…, or its SSE events) until it completes; its `result.profile_id` is the stored profile.",
  })
  @ApiHeader({ name: 'Prefer', required: false, description: '`respond-async` (RFC 7240): answer 202 with a job, whatever the size.' })
  @ApiCreatedResponse({ type: ProfileResponseDto, description: 'The profile, computed in the request.' })
  @ApiAcceptedResponse({ type: JobResponseDto, description: 'A `profiling` job; `Location` is the job, its progress names the pass running.' })
  @ApiResponse({ status: 400, type: ErrorResponseDto, description: 'A field is malformed; the message names it.' })
  @ApiResponse({ status: 403, type: ErrorResponseDto, description: '`dataset.tenant_id` is another tenant.' })
  @ApiResponse({ status: 422, type: ErrorResponseDto, description: 'The table or query cannot be read, or `target_column`/`time_column` is not one of its columns.' })
  async createProfile(
    @Body() body: CreateProfileDto,
    @Headers('prefer') prefer: string | undefined,
    @CallerTenant() caller: TenantContext,
    @Res({ passthrough: true }) response: HttpReplyHeaders,
  ): Promise<ProfileResponseDto | JobResponseDto> {
    const respondAsync = prefer?.toLowerCase().includes('respond-async') ?? false;
    const answer = await this.eda.create(body, respondAsync, caller);
    if ('profile' in answer) {
      return answer.profile;
    }
    response.status(HttpStatus.ACCEPTED);
    response.header('Location', `/api/v1/ml/jobs/${answer.job.job_id}`);
    if (respondAsync) {
      response.header('Preference-Applied', 'respond-async');
    }
    return answer.job;
  }

  @Get()
  @ApiOperation({ summary: "List the caller's profiles", description: 'Newest first; each with its dataset, size and number of alerts.' })
  @ApiOkResponse({ type: ProfileListResponseDto })
  listProfiles(@Query() query: ListProfilesQueryDto, @CallerTenant() caller: TenantContext): Promise<ProfileListResponseDto> {
    return this.eda.list(query.limit, caller);
  }

  @Get(':profile_id')
  @ApiOperation({ summary: 'Get a stored profile' })
  @ApiOkResponse({ type: ProfileResponseDto })
  @ApiResponse({ status: 400, type: ErrorResponseDto, description: 'The profile id is malformed.' })
  @ApiResponse({ status: 404, type: ErrorResponseDto, description: 'No such profile for this tenant.' })
  getProfile(@Param() params: ProfileIdParamDto, @CallerTenant() caller: TenantContext): Promise<ProfileResponseDto> {
    return this.eda.get(params.profile_id, caller);
  }

  @Get(':profile_id/charts')
  @ApiOperation({ summary: "List a profile's charts", description: 'Each comes as a PNG and as the Vega-Lite spec it was drawn from.' })
  @ApiOkResponse({ type: ProfileChartListResponseDto })
  @ApiResponse({ status: 400, type: ErrorResponseDto, description: 'The profile id is malformed.' })
  @ApiResponse({ status: 404, type: ErrorResponseDto, description: 'No such profile for this tenant.' })
  listProfileCharts(@Param() params: ProfileIdParamDto, @CallerTenant() caller: TenantContext): Promise<ProfileChartListResponseDto> {
    return this.eda.listCharts(params.profile_id, caller);
  }

  @Get(':profile_id/charts/:name')
  @ApiOperation({
    summary: 'Get one chart of a profile',
    description: '`Accept: image/png` for the picture; `application/json` (the default) or `application/vnd.vegalite.v5+json` for its Vega-Lite spec, data included.',
  })
  @ApiChartRoute('profile')
  async getProfileChart(
    @Param() params: ProfileChartParamDto,
    @Headers('accept') accept: string | undefined,
    @CallerTenant() caller: TenantContext,
  ): Promise<StreamableFile> {
    const chart = await this.eda.getChart(params.profile_id, params.name, accept, caller);
    return chartFile(chart);
  }

  @Get(':profile_id/report')
  @ApiOperation({
    summary: 'Download the HTML report of a profile',
    description: 'One self-contained page (no scripts, charts inline as PNG data URIs) that opens offline in a browser.',
  })
  @ApiProduces('text/html')
  @ApiOkResponse({ description: 'The HTML page.', content: { 'text/html': { schema: { type: 'string' } } } })
  @ApiResponse({ status: 400, type: ErrorResponseDto, description: 'The profile id is malformed.' })
  @ApiResponse({ status: 404, type: ErrorResponseDto, description: 'No such profile for this tenant.' })
  async getProfileReport(@Param() params: ProfileIdParamDto, @CallerTenant() caller: TenantContext): Promise<StreamableFile> {
    const report = await this.eda.getReport(params.profile_id, caller);
    return new StreamableFile(report.content, {
      type: report.contentType,
      length: report.content.length,
      disposition: `inline; filename="${params.profile_id}.html"`,
    });
  }
}
