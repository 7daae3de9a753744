// A one-line progress bar on stderr (silent when stderr is not a terminal, except at 100%).
export function progressBar(label) {
  let last = -1;
  return (done, total) => {
    const pct = total ? Math.floor((done / total) * 100) : 100;
    if (pct === last) return;
    last = pct;
    if (!process.stderr.isTTY && pct < 100) return;
    const width = 30;
    const fill = Math.round((pct / 100) * width);
    process.stderr.write(`\r${label} [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${pct}%${pct === 100 ? '\n' : ''}`);
  };
}
