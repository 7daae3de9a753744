// Reads members of a plain (ustar) tar file, such as ../shared/datasets/cifar10-train.tar,
// without extracting it. Shared by tests (test/support/tar.ts) and scripts.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

export function indexTar(path) {
  const fd = openSync(path, 'r');
  const members = new Map();
  try {
    const total = fstatSync(fd).size;
    const header = Buffer.alloc(512);
    let pos = 0;
    while (pos + 512 <= total) {
      readSync(fd, header, 0, 512, pos);
      if (header.every((b) => b === 0)) break;
      const name = header.toString('utf8', 0, 100).replace(/\0.*$/s, '');
      const prefix = header.toString('utf8', 345, 500).replace(/\0.*$/s, '');
      const size = parseInt(header.toString('utf8', 124, 136).replace(/\0.*$/s, '').trim() || '0', 8);
      const type = String.fromCharCode(header[156]);
      if (type === '0' || type === '\0') members.set(prefix ? `${prefix}/${name}` : name, { offset: pos + 512, size });
      pos += 512 + Math.ceil(size / 512) * 512;
    }
  } finally {
    closeSync(fd);
  }
  return { path, members };
}

export function readMember(tar, name) {
  const m = tar.members.get(name);
  if (!m) throw new Error(`${name} is not in ${tar.path}`);
  const fd = openSync(tar.path, 'r');
  try {
    const buf = Buffer.alloc(m.size);
    readSync(fd, buf, 0, m.size, m.offset);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } finally {
    closeSync(fd);
  }
}

export const CIFAR10_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

/** The project's hold-out split: the last 500 files (4500..4999) of each class. */
export function cifarHoldout(tar) {
  const out = [];
  CIFAR10_CLASSES.forEach((cls, label) => {
    const names = [...tar.members.keys()].filter((n) => n.startsWith(`train/${cls}/`)).sort();
    for (const name of names.slice(-500)) out.push({ name, label });
  });
  return out;
}
