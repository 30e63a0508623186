// Renders Xray's tray and app icons into assets/ as PNG, with only Node (zlib).
// Run once after changing a shape: `node scripts/make-icons.mjs`; the PNGs are committed.
//
// Shapes are signed-distance functions sampled 4×4 per pixel, so edges are
// antialiased and the 16 px tray icons stay crisp.
import { mkdirSync, writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const out = Buffer.alloc(body.length + 8);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), body.length + 4);
  return out;
}

/** encodePng writes 8-bit RGBA pixels (row-major, 4 bytes each) as a PNG file. */
function encodePng(width, height, rgba) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 6; // colour type: RGBA
  const rows = Buffer.alloc((width * 4 + 1) * height);
  for (let y = 0; y < height; y++) {
    rows[y * (width * 4 + 1)] = 0; // filter: none
    rgba.copy(rows, y * (width * 4 + 1) + 1, y * width * 4, (y + 1) * width * 4);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

// Signed distances in a unit square (0..1 on both axes); negative is inside.
const roundedBox = (cx, cy, hw, hh, r) => (x, y) => {
  const qx = Math.abs(x - cx) - hw + r;
  const qy = Math.abs(y - cy) - hh + r;
  return Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0) - r;
};
const segment = (ax, ay, bx, by, halfWidth) => (x, y) => {
  const px = x - ax, py = y - ay, dx = bx - ax, dy = by - ay;
  const t = Math.max(0, Math.min(1, (px * dx + py * dy) / (dx * dx + dy * dy)));
  return Math.hypot(px - dx * t, py - dy * t) - halfWidth;
};
const circle = (cx, cy, r) => (x, y) => Math.hypot(x - cx, y - cy) - r;
const union = (...shapes) => (x, y) => Math.min(...shapes.map((s) => s(x, y)));
const subtract = (a, b) => (x, y) => Math.max(a(x, y), -b(x, y));
const ring = (shape, halfWidth) => (x, y) => Math.abs(shape(x, y)) - halfWidth;

/** render samples layers (shape + colour, later ones on top) into an RGBA buffer. */
function render(size, layers) {
  const n = 4;
  const pixels = Buffer.alloc(size * size * 4);
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let r = 0, g = 0, b = 0, a = 0;
      for (const { shape, color } of layers) {
        let covered = 0;
        for (let sy = 0; sy < n; sy++) {
          for (let sx = 0; sx < n; sx++) {
            if (shape((px + (sx + 0.5) / n) / size, (py + (sy + 0.5) / n) / size) <= 0) covered++;
          }
        }
        const [cr, cg, cb] = typeof color === 'function' ? color(px / size, py / size) : color;
        const ca = covered / (n * n);
        const outA = ca + a * (1 - ca);
        if (outA > 0) {
          r = (cr * ca + r * a * (1 - ca)) / outA;
          g = (cg * ca + g * a * (1 - ca)) / outA;
          b = (cb * ca + b * a * (1 - ca)) / outA;
        }
        a = outA;
      }
      const i = (py * size + px) * 4;
      pixels[i] = Math.round(r);
      pixels[i + 1] = Math.round(g);
      pixels[i + 2] = Math.round(b);
      pixels[i + 3] = Math.round(a * 255);
    }
  }
  return encodePng(size, size, pixels);
}

// The mark: a screen (rounded frame) with an X through it — a VM seen through.
const frame = roundedBox(0.5, 0.5, 0.42, 0.36, 0.1);
const cross = union(segment(0.34, 0.34, 0.66, 0.66, 0.055), segment(0.66, 0.34, 0.34, 0.66, 0.055));
const badge = circle(0.84, 0.2, 0.16);

const trayShapes = {
  // idle: an outlined screen with the X.
  '': union(ring(frame, 0.05), cross),
  // running: a filled screen with the X cut out.
  Running: subtract(frame, cross),
  // prompt: the outline with a solid badge, cut clear of the frame so it reads at 16 px.
  Prompt: union(subtract(union(ring(frame, 0.05), cross), circle(0.84, 0.2, 0.23)), badge),
};

mkdirSync('assets', { recursive: true });
const black = [0, 0, 0];
const lightGrey = [230, 230, 230];
for (const [state, shape] of Object.entries(trayShapes)) {
  // macOS template images: black plus alpha; AppKit tints them for the menu bar.
  writeFileSync(`assets/tray${state}Template.png`, render(16, [{ shape, color: black }]));
  writeFileSync(`assets/tray${state}Template@2x.png`, render(32, [{ shape, color: black }]));
  // Linux panels do not tint, and are mostly dark.
  writeFileSync(`assets/tray${state}Linux.png`, render(32, [{ shape, color: lightGrey }]));
}

// App icon: the mark in white on a blue-to-teal tile, inset like a macOS app icon.
const tile = roundedBox(0.5, 0.5, 0.41, 0.41, 0.18);
const gradient = (x, y) => {
  const t = (x + y) / 2;
  return [Math.round(30 + 10 * t), Math.round(90 + 90 * t), Math.round(200 - 40 * t)];
};
const scale = (shape, k) => (x, y) => shape((x - 0.5) / k + 0.5, (y - 0.5) / k + 0.5) * k;
const appMark = scale(union(ring(frame, 0.04), cross), 0.62);
for (const size of [1024, 512]) {
  const name = size === 1024 ? 'icon.png' : `icon-${size}.png`;
  writeFileSync(`assets/${name}`, render(size, [{ shape: tile, color: gradient }, { shape: appMark, color: [255, 255, 255] }]));
}
