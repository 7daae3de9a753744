// A dependency-free horizontal bar chart (SVG) for benchmark results.
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);

export function barChartSvg(title, bars, unit = 'ms') {
  const labelW = 230, barW = 420, rowH = 28, top = 40, width = labelW + barW + 90;
  const height = top + bars.length * rowH + 16;
  const max = Math.max(...bars.map((b) => b.value));
  const rows = bars.map((b, i) => {
    const y = top + i * rowH;
    const w = Math.max(1, (b.value / max) * barW);
    return [
      `<text x="${labelW - 8}" y="${y + 18}" text-anchor="end">${esc(b.label)}</text>`,
      `<rect x="${labelW}" y="${y + 5}" width="${w.toFixed(1)}" height="${rowH - 10}" fill="#2f6fb0"/>`,
      `<text x="${labelW + w + 6}" y="${y + 18}">${b.value.toFixed(1)} ${unit}</text>`,
    ].join('');
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="13">`
    + `<rect width="100%" height="100%" fill="#fff"/><text x="10" y="22" font-weight="bold">${esc(title)}</text>${rows.join('')}</svg>\n`;
}
