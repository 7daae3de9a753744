import { ApiError } from '../errors';

/**
 * JSON.parse behind a nesting limit. The depth is counted on the text before parsing, so a body
 * of 100,000 '[' never reaches the recursive parser or the validators that walk the result.
 */
export function parseJsonText(text: string, maxDepth: number): unknown {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c) i++; // backslash: skip the escaped character
      else if (ch === 0x22) inString = false;
    } else if (ch === 0x22) {
      inString = true;
    } else if (ch === 0x5b || ch === 0x7b) {
      if (++depth > maxDepth) throw new ApiError('invalid-request', `The JSON body nests deeper than ${maxDepth} levels.`, { max_depth: maxDepth });
    } else if (ch === 0x5d || ch === 0x7d) {
      depth--;
    }
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError('invalid-request', 'The body is not valid JSON.');
  }
}
