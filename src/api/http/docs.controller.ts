// GET /docs (HTML) and GET /docs/openapi.json: public.
import { Controller, Get, Header } from '@nestjs/common';
import { Public } from '../auth/decorators.js';
import { docsHtml, openApiDocument } from './openapi.js';

@Controller('docs')
@Public()
export class DocsController {
  private readonly doc = openApiDocument();
  private readonly html = docsHtml();

  @Get()
  @Header('content-type', 'text/html; charset=utf-8')
  page(): string {
    return this.html;
  }

  @Get('openapi.json')
  json(): Record<string, unknown> {
    return this.doc;
  }
}
