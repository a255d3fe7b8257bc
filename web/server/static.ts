import { readFile, stat } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

/** The built pages: files under `dir`, and index.html for the client-side routes. */
export class StaticFiles {
  private index?: Buffer;

  constructor(private readonly dir: string) {}

  /** Answers GET/HEAD for `pathname`; false when there is no such file (the caller answers 404). */
  async serve(pathname: string, head: boolean, response: ServerResponse, headers: Record<string, string>) {
    let relative: string;
    try {
      relative = decodeURIComponent(pathname);
    } catch {
      return false;
    }
    if (relative.includes('\0')) return false;
    const file = normalize(join(this.dir, relative));
    if (file !== this.dir && !file.startsWith(this.dir + sep)) return false;

    if (relative === '/' || relative === '/index.html' || !extname(relative)) {
      // A page route (/login, /account, /organizations/acme): the single page.
      return this.send(response, await this.indexHtml(), '.html', head, { ...headers, 'cache-control': 'no-store' });
    }
    try {
      if (!(await stat(file)).isFile()) return false;
    } catch {
      return false;
    }
    const immutable = relative.startsWith('/assets/');
    return this.send(response, await readFile(file), extname(file), head, {
      ...headers,
      'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    });
  }

  private async indexHtml(): Promise<Buffer> {
    this.index ??= await readFile(join(this.dir, 'index.html'));
    return this.index;
  }

  private send(response: ServerResponse, body: Buffer, ext: string, head: boolean, headers: Record<string, string>) {
    response.writeHead(200, {
      ...headers,
      'content-type': TYPES[ext] ?? 'application/octet-stream',
      'content-length': body.length,
    });
    response.end(head ? undefined : body);
    return true;
  }
}
