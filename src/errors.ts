/**
 * Errors that reach a user carry a stable code (like fastify's FST_ERR_*) and name what is wrong:
 * the file, line and column, the config key path, or the field.
 */
export class PeregrineError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PeregrineError';
    this.code = code;
  }
}
