// GET /docs (HTML) and GET /docs/openapi.json: public. Both are generated once, at start, from
// the controllers Nest registered (DiscoveryService): a route without @Doc or @Undocumented
// stops the app from starting.
import { Controller, Get, Header, type OnModuleInit, type Type } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { Public } from '../auth/decorators.js';
import { Doc, docsHtml, openApiDocument } from './openapi.js';

@Controller('docs')
@Public()
export class DocsController implements OnModuleInit {
  private doc: Record<string, unknown> = {};
  private html = '';

  constructor(private readonly discovery: DiscoveryService) {}

  onModuleInit(): void {
    const controllers = this.discovery.getControllers().map((w) => w.metatype as Type);
    this.doc = openApiDocument(controllers);
    this.html = docsHtml(controllers);
  }

  @Doc({ tag: 'system', summary: 'This documentation (HTML)', success: { status: 200, description: 'HTML page', contentType: 'text/html' }, errors: [] })
  @Get()
  @Header('content-type', 'text/html; charset=utf-8')
  page(): string {
    return this.html;
  }

  @Doc({ tag: 'system', summary: 'This OpenAPI document', success: { status: 200, description: 'OpenAPI 3.1 JSON' }, errors: [] })
  @Get('openapi.json')
  json(): Record<string, unknown> {
    return this.doc;
  }
}
