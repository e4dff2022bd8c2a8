import { NotAcceptableException } from '@nestjs/common';

export const PNG = 'image/png';
export const JSON_TYPE = 'application/json';
export const VEGA_LITE_TYPE = 'application/vnd.vegalite.v5+json';

/** What each acceptable Accept entry is answered with; `*\/*` and no header mean the JSON spec. */
const ANSWERS: Record<string, string> = {
  [PNG]: PNG,
  'image/*': PNG,
  [VEGA_LITE_TYPE]: VEGA_LITE_TYPE,
  [JSON_TYPE]: JSON_TYPE,
  'application/*': JSON_TYPE,
  '*/*': JSON_TYPE,
};

/**
 * The media type a chart is answered with for an Accept header, decided as the ML Service decides it
 * (highest q wins, then the first listed); 406 when the header allows neither the PNG nor JSON.
 */
export function chartMediaType(accept: string | undefined): string {
  if (accept === undefined || accept.trim() === '') {
    return JSON_TYPE;
  }
  let best: { quality: number; answer: string } | undefined;
  for (const entry of accept.split(',')) {
    const [type, ...parameters] = entry.split(';').map((part) => part.trim());
    const answer = ANSWERS[type.toLowerCase()];
    const q = parameters.find((parameter) => parameter.toLowerCase().startsWith('q='));
    const quality = q === undefined ? 1 : Number(q.slice(2)) || 0;
    if (answer !== undefined && quality > 0 && (best === undefined || quality > best.quality)) {
      best = { quality, answer };
    }
  }
  if (best === undefined) {
    throw new NotAcceptableException(`charts are available as ${PNG}, ${JSON_TYPE} or ${VEGA_LITE_TYPE}; the Accept header allows none of them`);
  }
  return best.answer;
}
