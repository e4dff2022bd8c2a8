import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Controller, Get, Header, Param, NotFoundException, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { HttpReplyHeaders } from '@app/common/http/node-http';
import { pageDir } from '@app/workbench/page/location.cjs';

/** The page's files and their media types; nothing else under /workbench is served. */
const ASSETS = {
  'workbench.html': 'text/html; charset=utf-8',
  'workbench.js': 'text/javascript; charset=utf-8',
  'workbench.css': 'text/css; charset=utf-8',
} as const;
type AssetName = keyof typeof ASSETS;

/**
 * The page runs only its own script and style, talks only to this origin, shows images from this
 * origin or from the blob URLs its charts are fetched into, and may not be framed: the API key it
 * holds is no one else's to read.
 */
const CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'";

/**
 * GET /workbench: the conversation page over the chat API (docs/architecture.md, "Workbench").
 * Public like any static page: the page asks for an API key and every call it makes carries it, so
 * the data it shows is the key's tenant's, checked by the same guard as any client's. Not part of
 * the OpenAPI document (a page, not an operation).
 */
@ApiExcludeController()
@Controller('workbench')
export class WorkbenchController {
  /** Read once at start: three small files shipped beside this module (nest-cli.json copies them into dist/). */
  private readonly files = new Map<AssetName, string>((Object.keys(ASSETS) as AssetName[]).map((name) => [name, readFileSync(join(pageDir, name), 'utf8')]));

  @Get()
  page(@Res({ passthrough: true }) response: HttpReplyHeaders): string {
    return this.send(response, 'workbench.html');
  }

  @Get(':asset')
  @Header('Cache-Control', 'no-cache')
  asset(@Param('asset') asset: string, @Res({ passthrough: true }) response: HttpReplyHeaders): string {
    if (!Object.hasOwn(ASSETS, asset) || asset === 'workbench.html') throw new NotFoundException(`no workbench file ${asset}`);
    return this.send(response, asset as AssetName);
  }

  /** The file's text, its headers set on `response` (the adapter sends the text with them). */
  private send(response: HttpReplyHeaders, name: AssetName): string {
    const headers = { 'Content-Type': ASSETS[name], 'Content-Security-Policy': CONTENT_SECURITY_POLICY, 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer', 'Cache-Control': 'no-cache' };
    for (const [name, value] of Object.entries(headers)) {
      response.header(name, value);
    }
    return this.files.get(name) ?? '';
  }
}
