// One catalogue of OPA's error envelope (types.ErrorV1) and the status each code is sent with
// (v1/server/writer ErrorAuto). Every API family builds its errors here, so codes and statuses never drift.
import type { RegoCompileError } from '../engine/compiler.js';
import type { EvaluationError } from '../engine/program.js';
import type { StoreError } from '../engine/store.js';
import { evalErrorDetail } from '../engine/eval-error.js';

export interface ErrorDetail {
  code: string;
  message: string;
  location?: { file: string; row: number; col: number };
  details?: object;
}

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly errors?: ErrorDetail[],
  ) {
    super(message);
  }

  toJSON(): { code: string; message: string; errors?: ErrorDetail[] } {
    return this.errors ? { code: this.code, message: this.message, errors: this.errors } : { code: this.code, message: this.message };
  }
}

export const invalidParameter = (message: string, errors?: ErrorDetail[]) => new ApiError(400, 'invalid_parameter', message, errors);
export const resourceNotFound = (message: string) => new ApiError(404, 'resource_not_found', message);
export const undefinedDocument = (message: string) => new ApiError(404, 'undefined_document', message);
export const internalError = (message: string) => new ApiError(500, 'internal_error', message);

/** The evaluation's own error, as OPA reports it in `errors` and stores it in a decision-log event. */
export function evaluationErrorDetail(err: EvaluationError): ErrorDetail {
  if (err.builtin) return { code: err.builtin.code, message: err.message, ...(err.builtin.location ? { location: err.builtin.location } : {}) };
  return evalErrorDetail(err);
}

/** A failed evaluation, reported as OPA reports topdown errors: 500 with the detail in `errors`. */
export function evaluationFailed(err: EvaluationError): ApiError {
  return new ApiError(500, 'internal_error', 'error(s) occurred while evaluating query', [evaluationErrorDetail(err)]);
}

export function storeFailed(err: StoreError): ApiError {
  switch (err.kind) {
    case 'owned_by_bundle':
    case 'bad_patch':
    case 'rule_conflict':
      return invalidParameter(err.message);
    case 'not_found':
      return resourceNotFound(err.message);
    case 'conflict':
      return new ApiError(404, 'resource_conflict', err.message);
  }
}

export function compileFailed(err: RegoCompileError): ApiError {
  return invalidParameter(err.message, err.errors.length ? err.errors : undefined);
}
