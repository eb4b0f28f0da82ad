// Query-string parameters of the REST listings, validated with messages that say what is allowed.
import type { FastifyRequest } from "fastify";
import { badRequest } from "../errors.js";

/** Largest page any listing returns; the official CLI pages checkpoints in batches of 1000. */
export const MAX_PAGE_LIMIT = 1000;

export type AccessScope = "owned" | "accessible";

type Query = Record<string, string | string[] | undefined>;

function queryOf(request: FastifyRequest): Query {
  return (request.query ?? {}) as Query;
}

/** The single value of a query parameter; a repeated parameter is a 400. */
export function queryParam(request: FastifyRequest, name: string): string | undefined {
  const value = queryOf(request)[name];
  if (Array.isArray(value)) throw badRequest(`Query parameter '${name}' was given more than once`);
  return value;
}

function integerParam(request: FastifyRequest, name: string, fallback: number, min: number, max: number) {
  const text = queryParam(request, name);
  if (text === undefined) return fallback;
  const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw badRequest(`Query parameter '${name}' must be an integer from ${min} to ${max}, got '${text}'`);
  }
  return value;
}

export interface Paging {
  limit: number;
  offset: number;
}

export function pagingParams(request: FastifyRequest, defaultLimit: number): Paging {
  return {
    limit: integerParam(request, "limit", defaultLimit, 1, MAX_PAGE_LIMIT),
    offset: integerParam(request, "offset", 0, 0, Number.MAX_SAFE_INTEGER),
  };
}

export function accessScopeParam(request: FastifyRequest): AccessScope {
  const value = queryParam(request, "access_scope") ?? "owned";
  if (value !== "owned" && value !== "accessible") {
    throw badRequest(`Query parameter 'access_scope' must be 'owned' or 'accessible', got '${value}'`);
  }
  return value;
}
