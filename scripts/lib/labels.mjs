// Label files in the formats users arrive with: a JSON array, a JSON object keyed by index
// (values a name or [synset, name] as in imagenet_class_index.json), "index,name" CSV lines,
// or one label per line.
export function parseLabels(text) {
  const trimmed = text.trim();
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) {
    const json = JSON.parse(trimmed);
    if (Array.isArray(json)) return json.map(String);
    const entries = Object.entries(json).map(([k, v]) => [Number(k), Array.isArray(v) ? String(v[v.length - 1]) : String(v)]);
    if (entries.some(([k]) => !Number.isInteger(k))) throw new Error('label object keys must be integers');
    const out = [];
    for (const [k, v] of entries) out[k] = v;
    if (out.length !== entries.length) throw new Error('label indices are not contiguous from 0');
    return out;
  }
  const lines = trimmed.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.every((l, i) => l.startsWith(`${i},`))) return lines.map((l) => l.slice(l.indexOf(',') + 1).trim());
  return lines.map((l) => l.trim());
}
