// Errors of the image tools: a code, what went wrong, and what would fix it.

export type ImageErrorCode =
  | 'IMAGE_NOT_ROOT'
  | 'IMAGE_TOOL_MISSING'
  | 'IMAGE_COMMAND_FAILED'
  | 'IMAGE_AGENT_MISSING'
  | 'IMAGE_BAD_PROVISION'
  | 'IMAGE_BAD_OPTION'
  | 'IMAGE_BAD_IMAGE';

export class ImageError extends Error {
  override readonly name = 'ImageError';
  constructor(
    readonly code: ImageErrorCode,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

export function formatImageError(e: ImageError): string {
  return `${e.message} (${e.code})${e.hint ? `\n  hint: ${e.hint}` : ''}`;
}
