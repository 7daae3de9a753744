/** Decoded pixels: RGBA, 8 bits per channel, row-major, no padding. */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8Array;
}
