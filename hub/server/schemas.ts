// JSON schemas shared by routes. Bodies reject unknown fields (additionalProperties: false, and the
// app's ajv does not strip them), so a typo is a 400, not a silently ignored option.

export const errorBody = {
  $id: 'Error',
  type: 'object',
  required: ['code', 'message'],
  properties: { code: { type: 'string' }, message: { type: 'string' }, details: {} },
} as const;

export const errors = {
  400: { $ref: 'Error#' },
  401: { $ref: 'Error#' },
  403: { $ref: 'Error#' },
  404: { $ref: 'Error#' },
  409: { $ref: 'Error#' },
  413: { $ref: 'Error#' },
} as const;

export const idParam = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: { type: 'string', minLength: 1, maxLength: 63 } },
} as const;

export const numericIdParam = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: { type: 'integer', minimum: 0 } },
} as const;

export const labels = { type: 'object', additionalProperties: { type: 'string', maxLength: 63 }, maxProperties: 64 } as const;

/** Objects returned as stored: the schema documents them without filtering fields away. */
export const anyObject = { type: 'object', additionalProperties: true } as const;
export const anyArray = { type: 'array', items: anyObject } as const;
