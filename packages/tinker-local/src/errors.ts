// A leaf every layer may import: errors that carry the status and `detail` of their answer.
// engine/ and store/ throw them (an unknown model is a 404 wherever it is found); http/server.ts
// is the only place that turns them into `{"detail": "..."}` responses.

export class HttpError extends Error {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;

  constructor(statusCode: number, detail: string, headers: Record<string, string> = {}) {
    super(detail);
    this.name = "HttpError";
    this.statusCode = statusCode;
    this.headers = headers;
  }
}

export const badRequest = (detail: string): HttpError => new HttpError(400, detail);
export const unauthorized = (detail: string): HttpError => new HttpError(401, detail);
export const notFound = (detail: string): HttpError => new HttpError(404, detail);
export const conflict = (detail: string): HttpError => new HttpError(409, detail);
