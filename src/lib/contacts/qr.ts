/** QR codes for invite links (the `qrcode` package; works in the browser and in Node). */
import QRCode from 'qrcode';

/** Error correction M: a phone camera reads it from a screen; links stay well under capacity. */
const QR_OPTIONS = { errorCorrectionLevel: 'M', margin: 2 } as const;

/** The link as an SVG document (a string to put in an <img> as a data URL, or inline). */
export function inviteQrSvg(link: string): Promise<string> {
  return QRCode.toString(link, { ...QR_OPTIONS, type: 'svg' });
}

/** The link as a PNG data URL (`data:image/png;base64,…`), `size` pixels wide. */
export function inviteQrDataUrl(link: string, size = 256): Promise<string> {
  return QRCode.toDataURL(link, { ...QR_OPTIONS, width: size });
}
