import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Body, Controller, Get, type INestApplication, Param, Post, Sse } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ApiNotFoundResponse, ApiOkResponse, ApiProduces, ApiProperty, ApiResponse, ApiSecurity, DocumentBuilder, type OpenAPIObject, type ResponseObject, SwaggerModule } from '@nestjs/swagger';
import { EMPTY, type Observable } from 'rxjs';
import { ErrorResponseDto } from '@app/common/filters/error-response.dto';
import { documentErrorAnswers } from '@app/common/openapi-error-answers';
import { API_KEY_SECURITY } from '@app/common/tenant/api-key.security';

class OtherErrorDto {
  @ApiProperty()
  error!: string;
}

class NameDto {
  @ApiProperty()
  name!: string;
}

@ApiSecurity(API_KEY_SECURITY)
@ApiResponse({ status: 401, type: ErrorResponseDto })
@Controller('things')
class ThingsController {
  @Get()
  list(): string[] {
    return [];
  }

  @Post()
  create(@Body() body: NameDto): NameDto {
    return body;
  }

  @Get(':id')
  @ApiOkResponse({ type: NameDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto, description: 'No such thing.' })
  get(@Param('id') id: string): NameDto {
    return { name: id };
  }

  @Sse(':id/events')
  @ApiProduces('text/event-stream')
  @ApiOkResponse({ type: NameDto })
  @ApiNotFoundResponse({ type: ErrorResponseDto })
  events(@Param('id') _id: string): Observable<never> {
    return EMPTY;
  }
}

@ApiSecurity(API_KEY_SECURITY)
@ApiResponse({ status: 401, type: OtherErrorDto })
@Controller('other')
class OtherBodyController {
  @Get(':id')
  get(@Param('id') id: string): string {
    return id;
  }
}

@Controller('open')
class OpenController {
  @Get(':id')
  get(@Param('id') id: string): string {
    return id;
  }
}

describe('documentErrorAnswers', () => {
  let app: INestApplication;
  let document: OpenAPIObject;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({ controllers: [ThingsController, OtherBodyController, OpenController] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    document = documentErrorAnswers(SwaggerModule.createDocument(app, new DocumentBuilder().build()));
  });

  afterAll(async () => {
    await app.close();
  });

  const responsesOf = (path: string, method: 'get' | 'post'): Record<string, ResponseObject> =>
    document.paths[path]?.[method]?.responses as Record<string, ResponseObject>;
  const errorRef = { $ref: '#/components/schemas/ErrorResponseDto' };

  it('adds 400 and 422 where an operation takes input, and 404 where it has a path parameter', () => {
    expect(Object.keys(responsesOf('/things', 'get')).sort()).toEqual(['200', '401']);
    expect(Object.keys(responsesOf('/things', 'post')).sort()).toEqual(['201', '400', '401', '422']);
    const get = responsesOf('/things/{id}', 'get');
    expect(Object.keys(get).sort()).toEqual(['200', '400', '401', '404', '422']);
    expect(get['400']?.content).toEqual({ 'application/json': { schema: errorRef } });
  });

  it("keeps an operation's own description of a status", () => {
    expect(responsesOf('/things/{id}', 'get')['404']?.description).toBe('No such thing.');
  });

  it('files every error body under application/json, also on an event stream', () => {
    const events = responsesOf('/things/{id}/events', 'get');
    expect(Object.keys(events['200']?.content ?? {})).toEqual(['text/event-stream']);
    for (const status of ['400', '401', '404', '422']) {
      expect(events[status]?.content).toEqual({ 'application/json': { schema: errorRef } });
    }
  });

  it("adds the errors with the body the operation's other errors have", () => {
    expect(responsesOf('/other/{id}', 'get')['404']?.content).toEqual({ 'application/json': { schema: { $ref: '#/components/schemas/OtherErrorDto' } } });
  });

  it('leaves operations without the API key alone', () => {
    expect(Object.keys(responsesOf('/open/{id}', 'get'))).toEqual(['200']);
  });
});
