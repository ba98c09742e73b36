// Errors of the image tools: a code, what went wrong, and what would fix it.
import { WeftError } from '../base/index.ts';

export type ImageErrorCode =
  | 'IMAGE_NOT_ROOT'
  | 'IMAGE_TOOL_MISSING'
  | 'IMAGE_COMMAND_FAILED'
  | 'IMAGE_AGENT_MISSING'
  | 'IMAGE_BAD_PROVISION'
  | 'IMAGE_BAD_OPTION'
  | 'IMAGE_BAD_IMAGE';

export class ImageError extends WeftError<ImageErrorCode> {
  override readonly name = 'ImageError';
}
